#include "base/json_fields.h"
#include "inventory/queries.h"
#include <tuple>
#include <algorithm>
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace ers {
namespace {

std::string Text(sqlite3_stmt* st, int i) { return ColumnText(st, i); }
int64_t Int(sqlite3_stmt* st, int i) { return sqlite3_column_int64(st, i); }

std::vector<std::string> JsonStrings(const std::string& text, const char* key) {
  std::vector<std::string> out;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (key == nullptr && e.is_string()) out.push_back(e.get<std::string>());
    if (key != nullptr && e.is_object()) out.push_back(JsonString(e, key));
  }
  return out;
}

absl::StatusOr<std::vector<CertificateRef>> CertificateRefs(
    Inventory& inv, const char* sql, std::initializer_list<SqlValue> params) {
  std::vector<CertificateRef> out;
  absl::Status s = SqlQuery(inv.db(), inv.path(), "list certificates", sql, params,
                            [&](sqlite3_stmt* st) {
                              out.push_back({Text(st, 0), Text(st, 1), Text(st, 2), Int(st, 3)});
                            });
  if (!s.ok()) return s;
  return out;
}

}  // namespace

std::string EndpointRef::ToString() const {
  return absl::StrCat(ip, ":", port, name.empty() ? "" : absl::StrCat(" (", name, ")"));
}

absl::StatusOr<int64_t> LatestConfiguredRun(Inventory& inv) {
  int64_t run = 0;
  absl::Status s = SqlQuery(inv.db(), inv.path(), "find the latest configured sweep",
                            "SELECT coalesce(max(id), 0) FROM scan_runs WHERE kind = "
                            "'configured' AND status != 'running'",
                            {}, [&](sqlite3_stmt* st) { run = Int(st, 0); });
  if (!s.ok()) return s;
  return run;
}

absl::StatusOr<ReportRuns> FindReportRuns(Inventory& inv, int64_t run, int64_t since) {
  ReportRuns runs;
  if (run != 0) {
    runs.latest = run;
  } else {
    absl::StatusOr<int64_t> latest = LatestConfiguredRun(inv);
    if (!latest.ok()) return latest.status();
    runs.latest = *latest;
  }
  if (since != 0 || runs.latest == 0) {
    runs.previous = since;
    return runs;
  }
  absl::Status s = SqlQuery(
      inv.db(), inv.path(), "find the run before",
      "SELECT coalesce(max(p.id), 0) FROM scan_runs p, scan_runs r WHERE r.id = ?1 AND "
      "r.kind = 'configured' AND p.kind = 'configured' AND p.id < r.id AND "
      "p.status IN ('done', 'interrupted')",
      {runs.latest}, [&](sqlite3_stmt* st) { runs.previous = Int(st, 0); });
  if (!s.ok()) return s;
  return runs;
}

absl::StatusOr<std::vector<LeafSummary>> RunLeaves(Inventory& inv, int64_t run) {
  std::vector<LeafSummary> out;
  absl::Status s = SqlQuery(
      inv.db(), inv.path(), "list leaves",
      "SELECT c.sha256, coalesce(c.subject_cn, ''), coalesce(c.issuer_org, ''), "
      "coalesce(c.issuer_cn, ''), coalesce(c.not_after, 0), "
      "coalesce(c.key_type, ''), coalesce(c.key_bits, 0), "
      "coalesce(c.key_curve, ''), coalesce(c.signature_algorithm, ''), "
      "group_concat(e.ip || char(30) || e.port || char(30) || e.name, char(31)) "
      "FROM endpoint_results e JOIN certificates c ON c.sha256 = e.leaf_sha256 "
      "WHERE e.run_id = ?1 GROUP BY c.sha256 ORDER BY c.not_after",
      {run}, [&](sqlite3_stmt* st) {
        LeafSummary leaf{Text(st, 0), Text(st, 1), Text(st, 2), Text(st, 3), Int(st, 4),
                         Text(st, 5), static_cast<int>(Int(st, 6)), Text(st, 7), Text(st, 8),
                         {}};
        // Endpoints as ip RS port RS name, separated by US (ASCII 30, 31):
        // bytes no address, port or DNS name holds.
        for (absl::string_view e : absl::StrSplit(Text(st, 9), '\x1f', absl::SkipEmpty())) {
          std::vector<std::string> f = absl::StrSplit(e, '\x1e');
          int port = 0;
          if (f.size() == 3 && absl::SimpleAtoi(f[1], &port)) {
            leaf.endpoints.push_back({f[0], port, f[2]});
          }
        }
        std::sort(leaf.endpoints.begin(), leaf.endpoints.end(),
                  [](const EndpointRef& a, const EndpointRef& b) {
                    return std::tie(a.ip, a.port, a.name) < std::tie(b.ip, b.port, b.name);
                  });
        out.push_back(std::move(leaf));
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<FindingCount>> RunFindingCounts(Inventory& inv, int64_t run) {
  std::vector<FindingCount> out;
  absl::Status s = SqlQuery(
      inv.db(), inv.path(), "count findings",
      "SELECT json_extract(f.value, '$.severity'), json_extract(f.value, '$.id'), "
      "count(*) FROM endpoint_results e, json_each(e.findings) f "
      "WHERE e.run_id = ?1 GROUP BY 1, 2",
      {run}, [&](sqlite3_stmt* st) { out.push_back({Text(st, 0), Text(st, 1), Int(st, 2)}); });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<EndpointRef>> RunEndpointsWithFinding(Inventory& inv, int64_t run,
                                                                 absl::string_view id) {
  std::vector<EndpointRef> out;
  absl::Status s = SqlQuery(
      inv.db(), inv.path(), "list endpoints with a finding",
      "SELECT e.ip, e.port, e.name FROM endpoint_results e, json_each(e.findings) f "
      "WHERE e.run_id = ?1 AND json_extract(f.value, '$.id') = ?2 ORDER BY e.ip, e.port",
      {run, id},
      [&](sqlite3_stmt* st) {
        out.push_back({Text(st, 0), static_cast<int>(Int(st, 1)), Text(st, 2)});
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<CertificateRef>> NewLeaves(Inventory& inv, int64_t run) {
  return CertificateRefs(
      inv,
      "SELECT DISTINCT e.leaf_sha256, coalesce(c.subject_cn, ''), "
      "coalesce(nullif(c.issuer_org, ''), c.issuer_cn, ''), coalesce(c.not_after, 0) "
      "FROM endpoint_results e "
      "JOIN certificates c ON c.sha256 = e.leaf_sha256 WHERE e.run_id = ?1 "
      "AND e.leaf_sha256 NOT IN (SELECT leaf_sha256 FROM endpoint_results "
      "WHERE run_id < ?1)",
      {run});
}

absl::StatusOr<std::vector<CertificateRef>> GoneLeaves(Inventory& inv, int64_t run,
                                                       int64_t previous) {
  return CertificateRefs(
      inv,
      "SELECT DISTINCT e.leaf_sha256, coalesce(c.subject_cn, ''), "
      "coalesce(nullif(c.issuer_org, ''), c.issuer_cn, ''), coalesce(c.not_after, 0) "
      "FROM endpoint_results e "
      "JOIN certificates c ON c.sha256 = e.leaf_sha256 WHERE e.run_id = ?2 "
      "AND e.leaf_sha256 NOT IN (SELECT leaf_sha256 FROM endpoint_results "
      "WHERE run_id = ?1)",
      {run, previous});
}

absl::StatusOr<std::vector<ChangedEndpoint>> ChangedEndpoints(Inventory& inv, int64_t run,
                                                              int64_t previous) {
  std::vector<ChangedEndpoint> out;
  absl::Status s = SqlQuery(
      inv.db(), inv.path(), "list changed endpoints",
      "SELECT a.ip, a.port, a.name, "
      "b.leaf_sha256, coalesce(cb.subject_cn, ''), "
      "coalesce(nullif(cb.issuer_org, ''), cb.issuer_cn, ''), coalesce(cb.not_after, 0), "
      "a.leaf_sha256, coalesce(ca.subject_cn, ''), "
      "coalesce(nullif(ca.issuer_org, ''), ca.issuer_cn, ''), coalesce(ca.not_after, 0) "
      "FROM endpoint_results a "
      "JOIN endpoint_results b ON a.ip = b.ip AND a.port = b.port AND a.name = b.name "
      "LEFT JOIN certificates ca ON ca.sha256 = a.leaf_sha256 "
      "LEFT JOIN certificates cb ON cb.sha256 = b.leaf_sha256 "
      "WHERE a.run_id = ?1 AND b.run_id = ?2 AND a.leaf_sha256 != b.leaf_sha256 "
      "ORDER BY a.ip, a.port, a.name",
      {run, previous}, [&](sqlite3_stmt* st) {
        out.push_back({{Text(st, 0), static_cast<int>(Int(st, 1)), Text(st, 2)},
                       {Text(st, 3), Text(st, 4), Text(st, 5), Int(st, 6)},
                       {Text(st, 7), Text(st, 8), Text(st, 9), Int(st, 10)}});
      });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<EndpointFinding>> RunEndpointFindings(Inventory& inv, int64_t run) {
  std::vector<EndpointFinding> out;
  absl::Status s = SqlQuery(
      inv.db(), inv.path(), "list findings by endpoint",
      "SELECT e.ip, e.port, e.name, coalesce(json_extract(f.value, '$.id'), ''), "
      "coalesce(json_extract(f.value, '$.severity'), '') "
      "FROM endpoint_results e, json_each(e.findings) f WHERE e.run_id = ?1 "
      "ORDER BY e.ip, e.port, e.name",
      {run}, [&](sqlite3_stmt* st) {
        out.push_back({{Text(st, 0), static_cast<int>(Int(st, 1)), Text(st, 2)}, Text(st, 3),
                       Text(st, 4)});
      });
  if (!s.ok()) return s;
  return out;
}

absl::Status ForEachCertificate(Inventory& inv, int64_t run,
                                const std::function<void(const StoredCertificate&)>& fn) {
  auto row = [&](sqlite3_stmt* st) {
    fn({Text(st, 0), ColumnBlob(st, 1), Text(st, 2)});
  };
  if (run == 0) {
    return SqlQuery(inv.db(), inv.path(), "list certificates",
                    "SELECT sha256, der, coalesce(subject, '') FROM certificates "
                    "ORDER BY first_seen",
                    {}, row);
  }
  return SqlQuery(inv.db(), inv.path(), "list certificates",
                  "SELECT c.sha256, c.der, coalesce(c.subject, '') FROM certificates c "
                  "WHERE c.sha256 IN (SELECT j.value FROM endpoint_results e, "
                  "json_each(e.chain) j WHERE e.run_id = ?1) ORDER BY c.not_after",
                  {run}, row);
}

absl::StatusOr<std::string> CertificateDer(Inventory& inv, const std::string& sha256) {
  std::string der;
  absl::Status s = SqlQuery(inv.db(), inv.path(), "read a certificate",
                            "SELECT der FROM certificates WHERE sha256 = ?1", {sha256},
                            [&](sqlite3_stmt* st) { der = ColumnBlob(st, 0); });
  if (!s.ok()) return s;
  return der;
}

absl::Status ForEachEndpoint(Inventory& inv, int64_t run,
                             const std::function<void(const EndpointRow&)>& fn) {
  return SqlQuery(
      inv.db(), inv.path(), "list endpoints",
      "SELECT e.ip, e.port, e.name, e.sni, e.tls_version, e.cipher, e.leaf_sha256, "
      "coalesce(c.subject_cn, ''), coalesce(c.issuer_cn, ''), coalesce(c.issuer_org, ''), "
      "coalesce(c.not_after, 0), e.trusted, e.findings, e.chain, "
      "coalesce(s.first_seen, e.seen), coalesce(s.last_seen, e.seen), "
      "coalesce(c.subject, ''), coalesce(c.issuer, ''), coalesce(c.serial, ''), "
      "coalesce(e.starttls, '') "
      "FROM endpoint_results e LEFT JOIN certificates c ON c.sha256 = e.leaf_sha256 "
      "LEFT JOIN sightings s ON s.cert_sha256 = e.leaf_sha256 AND s.ip = e.ip "
      "AND s.port = e.port AND s.name = e.name "
      "WHERE e.run_id = ?1 ORDER BY e.ip, e.port, e.name",
      {run}, [&](sqlite3_stmt* st) {
        EndpointRow r;
        r.endpoint = {Text(st, 0), static_cast<int>(Int(st, 1)), Text(st, 2)};
        r.sni = Text(st, 3);
        r.tls_version = Text(st, 4);
        r.cipher = Text(st, 5);
        r.leaf_sha256 = Text(st, 6);
        r.subject_cn = Text(st, 7);
        r.issuer_cn = Text(st, 8);
        r.issuer_org = Text(st, 9);
        r.not_after = Int(st, 10);
        r.trusted = Int(st, 11) != 0;
        r.findings_json = Text(st, 12);
        r.finding_ids = JsonStrings(r.findings_json, "id");
        r.chain_sha256 = JsonStrings(Text(st, 13), nullptr);
        r.first_seen = Int(st, 14);
        r.last_seen = Int(st, 15);
        r.subject = Text(st, 16);
        r.issuer = Text(st, 17);
        r.serial = Text(st, 18);
        r.starttls = Text(st, 19);
        fn(r);
      });
}

}  // namespace ers
