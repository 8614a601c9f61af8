// Fuzz target: every parser of user input about targets (IP ranges, ports,
// servers, shards, exclusion files), and a walk over what they accept.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/ip_address.h"
#include "scanner/port_list.h"
#include "scanner/prefix_set.h"
#include "scanner/server_list.h"
#include "scanner/target_space.h"
#include "scanner/target_walker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto ranges = ers::ParseIpRanges(text);
  auto ports = ers::PortList::Parse(text);
  auto servers = ers::ParseServers(text);
  (void)ers::ParseShard(text);
  auto exclusions = ers::ParseExclusionList(text, "fuzz");
  if (ranges.ok()) {
    ers::TargetSpace::Builder b;
    for (const auto& r : *ranges) b.AddRange(r, ers::PortList::Defaults());
    if (servers.ok()) {
      for (const auto& s : *servers) b.AddServer(s, ports.ok() ? *ports : ers::PortList::Defaults());
    }
    if (exclusions.ok()) b.SetExclusions(*exclusions);
    auto space = std::move(b).Build();
    if (space.ok()) {
      ers::TargetWalker walker(&*space, size, ers::Shard{1, 2});
      ers::Target t;
      for (int i = 0; i < 64 && walker.Next(&t); ++i) {
        if (t.has_address && space->IsExcluded(t.address)) __builtin_trap();
      }
      (void)walker.RestorePosition(text);
    }
  }
  return 0;
}
