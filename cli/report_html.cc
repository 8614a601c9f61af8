#include "cli/report_html.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/printable.h"
#include "x509/findings.h"

namespace ers {
namespace {

using Json = nlohmann::ordered_json;

// The timeline's window: certificates expired up to kPastDays ago (older
// ones sit at the left edge) and those expiring within kFutureDays.
constexpr int kPastDays = 30;
constexpr int kFutureDays = 90;

std::string Str(const Json& v) { return v.is_string() ? v.get<std::string>() : ""; }

std::string Date(int64_t unix) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(unix), absl::UTCTimeZone());
}

// Bars renders a horizontal bar chart: one bar per (label, value), with a
// title and a description for assistive technology and a tooltip per bar.
std::string Bars(const std::string& id, const std::string& title,
                 const std::vector<std::pair<std::string, double>>& bars,
                 const std::string& unit) {
  const int row = 26, label_w = 260, bar_w = 520;
  double max = 0;
  for (const auto& [label, v] : bars) max = std::max(max, v);
  std::vector<std::string> said;
  for (const auto& [label, v] : bars) said.push_back(absl::StrCat(label, ": ", v, unit));
  std::string desc = bars.empty() ? "nothing to show" : absl::StrJoin(said, "; ");
  std::string out = absl::StrFormat(
      "<svg id=\"%s\" class=\"chart bars\" role=\"img\" aria-labelledby=\"%s-t %s-d\" "
      "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\"><title id=\"%s-t\">%s</title>"
      "<desc id=\"%s-d\">%s</desc>",
      id, id, id, label_w + bar_w + 80, row * std::max<size_t>(1, bars.size()) + 4,
      label_w + bar_w + 80, row * std::max<size_t>(1, bars.size()) + 4, id,
      HtmlText(title), id, HtmlText(desc));
  int y = 2;
  for (const auto& [label, v] : bars) {
    const int w = max > 0 ? static_cast<int>(bar_w * v / max) : 0;
    absl::StrAppendFormat(
        &out,
        "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"label\">%s</text>"
        "<rect class=\"bar\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"><title>%s</title></rect>"
        "<text x=\"%d\" y=\"%d\" class=\"value\">%s</text>",
        label_w - 8, y + 17, HtmlText(label), label_w, y + 3, std::max(w, 1), row - 8,
        HtmlText(absl::StrCat(label, ": ", v, unit)), label_w + w + 6, y + 17,
        HtmlText(absl::StrCat(v, unit)));
    y += row;
  }
  return out + "</svg>\n";
}

// Timeline renders the expiry timeline: a point per leaf at its days left
// (expired ones left of the zero line), stacked where they meet.
std::string Timeline(const std::vector<LeafSummary>& leaves, int64_t now, size_t* points) {
  const int left = 40, width = 840, step = 12, base = 190;
  auto x_of = [&](int64_t days) {
    days = std::clamp<int64_t>(days, -kPastDays, kFutureDays);
    return left + static_cast<int>((days + kPastDays) * width / (kPastDays + kFutureDays));
  };
  std::string circles;
  std::map<int, int> stack;  // x -> points there so far
  int expired = 0, soon = 0, top = base;
  for (const LeafSummary& leaf : leaves) {
    const int64_t days = DaysLeft(leaf.not_after, now);
    if (days >= kFutureDays) continue;
    const int x = x_of(days);
    const int y = base - 8 - step * stack[x / 6]++;
    top = std::min(top, y - 8);
    (days < 0 ? expired : soon)++;
    std::vector<std::string> where;
    for (const EndpointRef& e : leaf.endpoints) where.push_back(e.ToString());
    absl::StrAppendFormat(
        &circles,
        "<circle class=\"leaf %s\" cx=\"%d\" cy=\"%d\" r=\"5\" data-sha256=\"%s\">"
        "<title>%s</title></circle>",
        days < 0 ? "expired" : days < 30 ? "soon" : "later", x, y, leaf.sha256,
        HtmlText(absl::StrCat(leaf.subject_cn, ", expires ", Date(leaf.not_after), " (",
                                days, " days), ", absl::StrJoin(where, ", "))));
  }
  *points = static_cast<size_t>(expired + soon);
  const int height = base + 30;
  const int y0 = std::min(0, top);
  std::string out = absl::StrFormat(
      "<svg id=\"timeline\" class=\"chart\" role=\"img\" aria-labelledby=\"timeline-t "
      "timeline-d\" width=\"%d\" height=\"%d\" viewBox=\"0 %d %d %d\">"
      "<title id=\"timeline-t\">Expiry of leaf certificates</title>"
      "<desc id=\"timeline-d\">%d expired and %d expiring within %d days; each point is one "
      "leaf certificate, placed at its days left.</desc>"
      "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
      "<line class=\"now\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>",
      left + width + 40, height - y0, y0, left + width + 40, height - y0, expired, soon,
      kFutureDays, left, base, left + width, base, x_of(0), y0, x_of(0), base);
  for (int d : {-kPastDays, 0, 30, 60, kFutureDays}) {
    absl::StrAppendFormat(&out, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>",
                          x_of(d), base + 18,
                          d == -kPastDays ? "expired" : d == 0 ? "today" : absl::StrCat("+", d, " d"));
  }
  return out + circles + "</svg>\n";
}

// EndpointList renders endpoints ({text}) as a list, the first |limit|
// shown and the rest behind a <details>.
std::string EndpointList(const Json& endpoints) {
  std::string out = "<ul class=\"endpoints\">";
  for (const auto& e : endpoints) absl::StrAppend(&out, "<li>", HtmlText(Str(e["text"])), "</li>");
  return out + "</ul>";
}

constexpr const char* kStyle = R"css(
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
.chart text { font-size: 12px; fill: #333; } .bar { fill: #4a7ab5; }
.axis, .now { stroke: #999; } .now { stroke-dasharray: 4 3; }
.leaf.expired { fill: #c0392b; } .leaf.soon { fill: #e67e22; } .leaf.later { fill: #2e86c1; }
.sev-critical { color: #c0392b; font-weight: bold; } .sev-high { color: #8e44ad; }
.sev-medium { color: #b7950b; } .sev-low { color: #117a65; }
table { border-collapse: collapse; width: 100%; } th, td { padding: 3px 6px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
th { cursor: pointer; background: #f4f4f4; } th[aria-sort] { background: #e4ecf7; }
input#filter { width: 20em; padding: 4px; margin: 0.5em 0; }
.endpoints { margin: 0.2em 0 0.8em; } code { font-size: 12px; }
.visually-hidden { position: absolute; left: -10000px; }
)css";

// The table script: click a header to sort (again to reverse), type to
// filter; "#filter=TEXT&sort=N" in the address does both on load.
constexpr const char* kScript = R"js(
(function () {
  var table = document.getElementById('endpoints');
  var body = table.tBodies[0];
  var input = document.getElementById('filter');
  var shown = document.getElementById('shown');
  function filter() {
    var q = input.value.toLowerCase(), n = 0;
    Array.prototype.forEach.call(body.rows, function (r) {
      var hit = r.textContent.toLowerCase().indexOf(q) >= 0;
      r.hidden = !hit;
      if (hit) n++;
    });
    shown.textContent = n + ' of ' + body.rows.length + ' endpoints shown';
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener('click', function () {
      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].getAttribute('data-sort') || a.cells[i].textContent;
        var y = b.cells[i].getAttribute('data-sort') || b.cells[i].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        if (!isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
        return dir * x.localeCompare(y);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  input.addEventListener('input', filter);
  // "#filter=TEXT&sort=N" in the address: filter, and sort by column N.
  location.hash.replace(/^#/, '').split('&').forEach(function (kv) {
    var p = kv.split('=');
    if (p[0] === 'filter') input.value = decodeURIComponent(p[1] || '');
    if (p[0] === 'sort' && table.tHead.rows[0].cells[+p[1]]) table.tHead.rows[0].cells[+p[1]].click();
  });
  filter();
})();
)js";

}  // namespace

std::string ReportHtml(const Json& report, const std::vector<LeafSummary>& leaves,
                       const std::vector<EndpointRow>& endpoints, int64_t now) {
  const Json& run = report["run"];
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
      "<title>ers report: run ",
      run["id"].dump(), "</title><style>", kStyle, "</style></head><body>\n");
  absl::StrAppend(&out, "<h1>ers report: run ", run["id"].dump(), " (",
                  HtmlText(Str(run["kind"])), "), ", HtmlText(Str(run["status"])), "</h1>\n",
                  "<p id=\"run\">Started ", HtmlText(Str(run["started"])), ", finished ",
                  run["finished"].is_string() ? HtmlText(Str(run["finished"])) : "never", "; ",
                  run["targets"].dump(), " targets, ", run["tls_endpoints"].dump(),
                  " TLS endpoints. Report generated ", HtmlText(Str(report["generated"])),
                  ".</p>\n");
  if (run["error"].is_string()) {
    absl::StrAppend(&out, "<p class=\"sev-critical\">This run failed: ",
                    HtmlText(Str(run["error"])), "</p>\n");
  } else if (run["tls_endpoints"] == 0) {
    out += "<p class=\"sev-critical\">This run found no TLS endpoint.</p>\n";
  }

  // Expiry.
  size_t points = 0;
  const std::string timeline = Timeline(leaves, now, &points);
  absl::StrAppend(&out, "<h2 id=\"expiry\">Expiry</h2>\n", timeline, "<ul id=\"expiry-list\">");
  for (const auto& c : report["expiry"]["certificates"]) {
    absl::StrAppend(&out, "<li>", HtmlText(Str(c["subject_cn"])), " (",
                    HtmlText(Str(c["issuer"])), "): ",
                    c["not_after"].is_string() ? HtmlText(Str(c["not_after"])).substr(0, 10) : "",
                    ", ", c["days_left"].dump(), " days", EndpointList(c["endpoints"]), "</li>");
  }
  out += "</ul>\n";

  // Findings.
  std::vector<std::pair<std::string, double>> finding_bars;
  for (const auto& f : report["findings"]) {
    finding_bars.push_back({absl::StrCat(Str(f["id"]), " (", Str(f["severity"]), ")"),
                            f["endpoint_count"].get<double>()});
  }
  absl::StrAppend(&out, "<h2 id=\"findings\">Findings by severity</h2>\n",
                  Bars("findings-chart", "Endpoints per finding", finding_bars, " endpoints"));
  for (const auto& f : report["findings"]) {
    absl::StrAppend(&out, "<h3 class=\"sev-", HtmlText(Str(f["severity"])), "\">",
                    HtmlText(Str(f["severity"])), ": ", HtmlText(Str(f["id"])), " (",
                    f["endpoint_count"].dump(), ")</h3>", EndpointList(f["endpoints"]), "\n");
  }

  // Issuers, keys, signatures.
  std::vector<std::pair<std::string, double>> issuer_bars;
  for (const auto& i : report["issuer_share"]["issuers"]) {
    issuer_bars.push_back({Str(i["issuer"]), std::round(i["percent"].get<double>() * 10) / 10});
  }
  absl::StrAppend(&out, "<h2 id=\"issuers\">Issuer share among ",
                  report["issuer_share"]["unexpired_certificates"].dump(),
                  " unexpired certificates</h2>\n",
                  Bars("issuer-chart", "Share of unexpired certificates by issuer", issuer_bars,
                       " %"));
  std::vector<std::pair<std::string, double>> key_bars, sig_bars;
  for (const auto& k : report["keys"]) key_bars.push_back({Str(k["key"]), k["certificates"].get<double>()});
  for (const auto& s : report["signature_algorithms"]) {
    sig_bars.push_back({Str(s["algorithm"]), s["certificates"].get<double>()});
  }
  absl::StrAppend(&out, "<h2 id=\"keys\">Keys and signatures</h2>\n",
                  Bars("key-chart", "Leaf certificates by key", key_bars, ""),
                  Bars("signature-chart", "Leaf certificates by signature algorithm", sig_bars, ""));

  // Changes.
  out += "<h2 id=\"changes\">Changes</h2>\n";
  const Json& changes = report["changes"];
  if (!changes.is_object()) {
    out += "<p>Nothing to compare with.</p>\n";
  } else {
    absl::StrAppend(&out, "<p>Since run ", report["previous_run"]["id"].dump(), ".</p>\n");
    auto cert = [](const Json& c) {
      return absl::StrCat(HtmlText(Str(c["subject_cn"])), " (", HtmlText(Str(c["issuer"])),
                          ", expires ", HtmlText(Str(c["not_after"])), ", <code>",
                          HtmlText(Str(c["sha256"]).substr(0, 16)), "</code>)");
    };
    for (const char* k : {"new_certificates", "disappeared_certificates"}) {
      absl::StrAppend(&out, "<h3>", k, " (", changes[k].size(), ")</h3><ul>");
      for (const auto& c : changes[k]) absl::StrAppend(&out, "<li>", cert(c), "</li>");
      out += "</ul>\n";
    }
    absl::StrAppend(&out, "<h3>changed_endpoints (", changes["changed_endpoints"].size(),
                    ")</h3><ul>");
    for (const auto& c : changes["changed_endpoints"]) {
      absl::StrAppend(&out, "<li>", HtmlText(Str(c["endpoint"]["text"])), ": was ",
                      cert(c["was"]), ", now ", cert(c["now"]), "</li>");
    }
    out += "</ul>\n";
    for (const char* k : {"findings_appeared", "findings_cleared"}) {
      absl::StrAppend(&out, "<h3>", k, " (", changes[k].size(), ")</h3><ul>");
      for (const auto& f : changes[k]) {
        absl::StrAppend(&out, "<li>", HtmlText(Str(f["endpoint"]["text"])), ": ",
                        HtmlText(Str(f["id"])), " (", HtmlText(Str(f["severity"])), ")</li>");
      }
      out += "</ul>\n";
    }
  }

  // The endpoints table.
  absl::StrAppend(
      &out,
      "<h2 id=\"table\">Endpoints</h2>\n<label>Filter <input id=\"filter\" type=\"search\" "
      "placeholder=\"address, name, issuer, finding...\"></label> <span id=\"shown\" "
      "aria-live=\"polite\"></span>\n<table id=\"endpoints\"><thead><tr><th>endpoint</th>"
      "<th>TLS</th><th>subject</th><th>issuer</th><th>expires</th><th>days left</th>"
      "<th>trusted</th><th>findings</th><th>chain</th></tr></thead><tbody>\n");
  for (const EndpointRow& e : endpoints) {
    std::vector<std::string> chain;
    for (const std::string& sha : e.chain_sha256) chain.push_back(sha.substr(0, 16));
    const int64_t days = e.not_after != 0 ? DaysLeft(e.not_after, now) : 0;
    absl::StrAppendFormat(
        &out,
        "<tr><td data-sort=\"%s\">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
        "<td data-sort=\"%d\">%d</td><td>%s</td><td>%s</td><td><code>%s</code></td></tr>\n",
        HtmlText(absl::StrFormat("%s:%05d %s", e.endpoint.ip, e.endpoint.port, e.endpoint.name)),
        HtmlText(e.endpoint.ToString()),
        HtmlText(e.starttls.empty() ? e.tls_version
                                    : absl::StrCat(e.tls_version, " via ", e.starttls)),
        HtmlText(e.subject_cn),
        HtmlText(e.issuer_org.empty() ? e.issuer_cn : e.issuer_org),
        e.not_after != 0 ? Date(e.not_after) : "", days, days, e.trusted ? "yes" : "no",
        HtmlText(absl::StrJoin(e.finding_ids, " ")), HtmlText(absl::StrJoin(chain, " ")));
  }
  absl::StrAppend(&out, "</tbody></table>\n<p class=\"visually-hidden\" id=\"counts\" "
                        "data-timeline-points=\"", points, "\" data-endpoints=\"",
                  endpoints.size(), "\"></p>\n<script>", kScript, "</script>\n</body></html>\n");
  return out;
}

}  // namespace ers
