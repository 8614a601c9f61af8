// report_metrics.h: `ers report --prometheus FILE`, the node_exporter
// textfile-collector format (https://prometheus.io/docs/instrumenting/
// exposition_formats/): per TLS endpoint the expiry of the leaf it serves
// (never a root's or an alternate chain's), endpoints per finding, and the
// run's figures.
#ifndef ERS_CLI_REPORT_METRICS_H_
#define ERS_CLI_REPORT_METRICS_H_

#include <string>

#include "absl/status/statusor.h"
#include "inventory/inventory.h"

namespace ers {

// PrometheusText renders the metrics of |run| of |inventory|.
[[nodiscard]] absl::StatusOr<std::string> PrometheusText(Inventory& inventory,
                                                         const RunInfo& run);

// EscapeLabel escapes a label value: backslash, double quote and newline.
std::string EscapeLabel(const std::string& value);

}  // namespace ers

#endif  // ERS_CLI_REPORT_METRICS_H_
