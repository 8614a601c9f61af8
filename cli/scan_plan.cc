#include "cli/scan_plan.h"

#include "absl/strings/str_cat.h"
#include "base/ip_address.h"
#include "scanner/server_list.h"

namespace ers {

absl::StatusOr<TargetSpace> BuildTargetSpace(
    const std::vector<DiscoverEntry>& entries, PrefixSet exclusions) {
  TargetSpace::Builder builder;
  for (const DiscoverEntry& e : entries) {
    if (e.kind == EntryKind::kServer) {
      absl::StatusOr<Server> server = ParseServer(e.spec);
      if (!server.ok()) {
        return absl::DataLossError(absl::StrCat(
            "stored server \"", e.spec, "\": ", server.status().message()));
      }
      builder.AddServer(*server, e.ports);
    } else {
      absl::StatusOr<IpRange> range = ParseIpRange(e.spec);
      if (!range.ok()) {
        return absl::DataLossError(absl::StrCat(
            "stored IP range \"", e.spec, "\": ", range.status().message()));
      }
      builder.AddRange(*range, e.ports);
    }
  }
  builder.SetExclusions(std::move(exclusions));
  return std::move(builder).Build();
}

}  // namespace ers
