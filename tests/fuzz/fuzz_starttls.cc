// Fuzz target: every STARTTLS dialogue against arbitrary server bytes, cut
// into arbitrary chunks. Whatever the server sends, a dialogue ends (or
// waits) without crashing, its reply stays printable and bounded, and what
// it asks the client to send stays small.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tlsprobe/starttls.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto protocol = static_cast<ers::Starttls>(1 + data[0] % (ers::kNumStarttls - 1));
  const size_t chunk = 1 + data[1] % 64;
  ers::StarttlsDialog dialog(protocol, "fuzz.test");
  ers::StarttlsDialog::Step step = dialog.Start();
  size_t sent = dialog.output().size();
  dialog.output().clear();
  for (size_t at = 2; at < size && step == ers::StarttlsDialog::Step::kRead; at += chunk) {
    const size_t n = at + chunk <= size ? chunk : size - at;
    step = dialog.OnBytes(std::string(reinterpret_cast<const char*>(data) + at, n));
    sent += dialog.output().size();
    dialog.output().clear();
  }
  if (step == ers::StarttlsDialog::Step::kRead) step = dialog.OnEnd();
  // Each server byte may draw at most a three-byte telnet answer, plus the
  // dialogue's own requests.
  if (sent > 3 * size + 512) __builtin_trap();
  if (dialog.reply().size() > 256) __builtin_trap();
  for (char c : dialog.reply()) {
    if (c < 0x20 || c > 0x7e) __builtin_trap();
  }
  return 0;
}
