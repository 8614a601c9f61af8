// report_html.h: `ers report --html FILE`, the report as one self-contained
// page: no request leaves it when opened (a Content-Security-Policy of
// default-src 'none'). The charts are SVG that ers writes itself (no
// charting library to vendor or keep up to date), each with a text
// equivalent for screen readers and a list beside it; the endpoints table
// sorts and filters with a few lines of inline script, and works (unsorted)
// without it.
#ifndef ERS_CLI_REPORT_HTML_H_
#define ERS_CLI_REPORT_HTML_H_

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "inventory/queries.h"

namespace ers {

// ReportHtml renders |report| (what ers report --json prints), the run's
// |leaves| (for the expiry timeline: the expired and the next 90 days) and
// its |endpoints| (the table), at time |now| (Unix seconds).
std::string ReportHtml(const nlohmann::ordered_json& report,
                       const std::vector<LeafSummary>& leaves,
                       const std::vector<EndpointRow>& endpoints, int64_t now);

}  // namespace ers

#endif  // ERS_CLI_REPORT_HTML_H_
