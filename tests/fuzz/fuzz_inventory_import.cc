// Fuzz target: the inventory's import of one JSON line of the result
// schema (into an in-memory SQLite database). Malformed lines are errors,
// never crashes, and never leave half a line behind.
#include <cstddef>
#include <cstdint>
#include <string>

#include "inventory/inventory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ers::Inventory* const inventory = ers::Inventory::Open(":memory:")->release();
  static const int64_t run = *inventory->BeginRun("{}");
  (void)inventory->AddResultLine(run, std::string(reinterpret_cast<const char*>(data), size));
  (void)inventory->Flush();
  return 0;
}
