#include "clm/clm_page.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/json_fields.h"
#include "base/printable.h"

namespace ers {
namespace {

std::string Time(int64_t unix) {
  if (unix <= 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(unix),
                          absl::UTCTimeZone());
}

std::string Cell(const std::string& text) { return absl::StrCat("<td>", HtmlText(text), "</td>"); }

}  // namespace

std::string AdminPage(const nlohmann::json& clients, const nlohmann::json& inventory) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>ers-clm</title><style>"
      "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px}"
      "table{border-collapse:collapse;width:100%}th,td{padding:3px 6px;text-align:left;"
      "border-bottom:1px solid #eee}th{background:#f4f4f4}.finding{color:#a03}"
      "</style></head><body>\n<h1>ers-clm: clients and inventory</h1>\n";
  const size_t n_clients = clients.is_array() ? clients.size() : 0;
  absl::StrAppend(&out, "<h2>Clients (", n_clients, ")</h2>\n<table id=\"clients\"><thead><tr>"
                        "<th>name</th><th>kind</th><th>last contact</th><th>batches</th>"
                        "<th>sightings</th><th>certificates</th></tr></thead><tbody>\n");
  if (clients.is_array()) {
    for (const auto& c : clients) {
      absl::StrAppend(&out, "<tr>", Cell(JsonString(c, "name")), Cell(JsonString(c, "identity")),
                      Cell(Time(JsonInt(c, "last_contact"))), Cell(absl::StrCat(JsonInt(c, "batches"))),
                      Cell(absl::StrCat(JsonInt(c, "sightings"))),
                      Cell(absl::StrCat(JsonInt(c, "certificates"))), "</tr>\n");
    }
  }
  const nlohmann::json empty = nlohmann::json::array();
  const nlohmann::json& sightings =
      inventory.is_object() && inventory.contains("sightings") && inventory["sightings"].is_array()
          ? inventory["sightings"]
          : empty;
  absl::StrAppend(&out, "</tbody></table>\n<h2>Inventory (", sightings.size(),
                  " sightings)</h2>\n<table id=\"sightings\"><thead><tr><th>client</th>"
                  "<th>endpoint</th><th>name</th><th>TLS</th><th>certificate</th>"
                  "<th>last seen</th><th>findings</th></tr></thead><tbody>\n");
  for (const auto& s : sightings) {
    std::string findings;
    if (s.is_object() && s.contains("findings") && s["findings"].is_array()) {
      for (const auto& f : s["findings"]) {
        absl::StrAppend(&findings, "<span class=\"finding\">",
                        HtmlText(absl::StrCat(JsonString(f, "id"), " (", JsonString(f, "severity"),
                                              ")")),
                        "</span> ");
      }
    }
    absl::StrAppend(&out, "<tr>", Cell(JsonString(s, "client")),
                    Cell(absl::StrCat(JsonString(s, "ip"), ":", JsonInt(s, "port"))),
                    Cell(JsonString(s, "name")), Cell(JsonString(s, "tls_version")),
                    Cell(JsonString(s, "sha256").substr(0, 16)),
                    Cell(Time(JsonInt(s, "last_seen"))), "<td>", findings, "</td></tr>\n");
  }
  return out + "</tbody></table>\n</body></html>\n";
}

}  // namespace ers
