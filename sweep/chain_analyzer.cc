#include "sweep/chain_analyzer.h"

#include <algorithm>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "base/digest.h"
#include "x509/certificate.h"
#include "x509/chain.h"
#include "x509/ocsp.h"
#include "x509/report_json.h"

namespace ers {
namespace {

void FillCertificate(const Certificate& c, CertificateInfo* out) {
  out->sha256_hex = c.sha256_hex;
  out->parsed = true;
  out->subject = c.subject;
  out->subject_cn = c.subject_cn;
  out->issuer = c.issuer;
  out->issuer_cn = c.issuer_cn;
  out->issuer_org = c.issuer_org;
  out->serial_hex = c.serial_hex;
  out->not_before_unix = c.not_before_unix;
  out->not_after_unix = c.not_after_unix;
  out->key_type = KeyTypeName(c.key_type);
  out->key_bits = c.key_bits;
  out->key_curve = c.key_curve;
  out->signature_algorithm = c.signature_algorithm;
  out->self_signed = c.self_signed;
  out->is_ca = c.is_ca;
  out->dns_names = c.dns_names;
}

// HostToCheck is the name the leaf must cover: the SNI sent, except for an
// SNI discovery probe that got the address's default certificate back (the
// server has no virtual host of that name: nothing was promised for it).
const std::string& HostToCheck(const ProbeResult& r) {
  static const std::string kNone;
  return r.sni_source != SniSource::kNone && !r.differs_from_default ? kNone : r.sni;
}

Fetching CachesOnly(Fetching f) {
  f.network = false;
  return f;
}

// CacheKey identifies a chain and what its analysis depends on.
std::string CacheKey(const ProbeResult& r) {
  const std::string& host = HostToCheck(r);
  size_t len = host.size() + 8;
  for (const std::string& der : r.chain) len += der.size() + 4;
  std::string key;
  key.reserve(len);
  absl::StrAppend(&key, host, "\n", r.version, "\n", r.ocsp_response.size(), "\n",
                  r.ocsp_response);
  for (const std::string& der : r.chain) {
    const uint32_t n = static_cast<uint32_t>(der.size());
    key.append(reinterpret_cast<const char*>(&n), sizeof(n));
    key.append(der);
  }
  return key;
}

}  // namespace

std::shared_ptr<const ChainInfo> BuildChainInfo(
    const std::vector<std::string>& chain, const std::string& sni,
    uint16_t tls_version, const TrustStore* trust, const Policy* policy,
    int64_t now_unix, CertificateCache* cache, const Fetching& fetching,
    const std::string& ocsp_response) {
  IssuerFetcher* const aia = fetching.complete_chains ? fetching.fetcher : nullptr;
  const bool aia_network = fetching.network;
  auto info = std::make_shared<ChainInfo>();
  info->certificates.resize(chain.size());
  if (trust == nullptr || policy == nullptr) {
    for (size_t i = 0; i < chain.size(); ++i) {
      absl::StatusOr<Certificate> c;
      if (cache != nullptr) {
        absl::StatusOr<std::shared_ptr<const Certificate>> cached = cache->Parse(chain[i], nullptr);
        if (cached.ok()) {
          c = **cached;
        } else {
          c = cached.status();
        }
      } else {
        c = ParseCertificate(chain[i]);
      }
      if (c.ok()) {
        FillCertificate(*c, &info->certificates[i]);
      } else {
        info->certificates[i].sha256_hex = Sha256Hex(chain[i]);
        info->certificates[i].parse_error = std::string(c.status().message());
      }
    }
    return info;
  }
  EndpointFacts facts;
  facts.host = sni;  // the name the endpoint was asked for
  facts.tls_version = tls_version;
  facts.ocsp_response = ocsp_response;
  ChainReport report = AnalyzeChain(chain, facts, *trust, *policy, now_unix, cache);
  // AIA: fetch the issuer the path lacks, then judge again with it.
  std::vector<ChainReport::AiaFetch> aia_log;
  int fetches = 0;
  while (aia != nullptr && report.validation.issuer_missing && fetches < kMaxAiaFetches) {
    bool added = false;
    for (const std::string& url : report.validation.missing_issuer_urls) {
      if (fetches >= kMaxAiaFetches) break;
      ++fetches;
      absl::StatusOr<std::vector<std::string>> certs = aia->Fetch(url, aia_network);
      aia_log.push_back({url, certs.ok() ? absl::StrCat("ok: ", certs->size(), " certificate(s)")
                                         : std::string(certs.status().message())});
      if (!certs.ok()) continue;
      for (std::string& der : *certs) {
        if (std::find(facts.fetched.begin(), facts.fetched.end(), der) == facts.fetched.end()) {
          facts.fetched.push_back(std::move(der));
          added = true;
        }
      }
      if (added) break;
    }
    if (!added) break;
    report = AnalyzeChain(chain, facts, *trust, *policy, now_unix, cache);
  }
  // --revocation ocsp: ask the leaf's responder when nothing was stapled.
  if (fetching.ask_ocsp && fetching.network && fetching.fetcher != nullptr &&
      ocsp_response.empty() && report.chain.has_leaf() &&
      !report.validation.leaf_issuer_der.empty()) {
    const std::string& issuer_der = report.validation.leaf_issuer_der;
    const uint8_t* p = reinterpret_cast<const uint8_t*>(issuer_der.data());
    bssl::UniquePtr<X509> issuer(d2i_X509(nullptr, &p, static_cast<long>(issuer_der.size())));
    X509* leaf = report.chain.x509[report.chain.path[0]].get();
    const std::string request = issuer ? OcspRequestFor(leaf, issuer.get()) : "";
    const std::vector<std::string> urls = report.chain.leaf().ocsp_urls;
    for (size_t i = 0; i < urls.size() && i < 2 && !request.empty(); ++i) {
      absl::StatusOr<std::string> body = fetching.fetcher->FetchOcsp(urls[i], request);
      aia_log.push_back({urls[i], body.ok() ? "ok: OCSP response"
                                            : std::string(body.status().message())});
      if (!body.ok()) continue;
      facts.ocsp_response = *std::move(body);
      facts.ocsp_from_responder = true;
      report = AnalyzeChain(chain, facts, *trust, *policy, now_unix, cache);
      break;
    }
  }
  // --revocation crl: the CRLs the path's certificates name (not the
  // anchor's: nothing above it issues CRLs about it).
  if (fetching.fetch_crls && fetching.network && fetching.fetcher != nullptr &&
      report.chain.has_leaf() && report.validation.verified_path.size() >= 2) {
    std::vector<std::string> urls;
    for (size_t i = 0; i + 1 < report.validation.verified_path.size(); ++i) {
      const std::string& sha = report.validation.verified_path[i];
      for (const Certificate& c : report.chain.certs) {
        if (c.sha256_hex != sha) continue;
        for (size_t u = 0; u < c.crl_urls.size() && u < 2; ++u) urls.push_back(c.crl_urls[u]);
      }
    }
    for (const std::string& url : urls) {
      absl::StatusOr<std::string> crl = fetching.fetcher->FetchCrl(url);
      aia_log.push_back({url, crl.ok() ? absl::StrCat("ok: CRL of ", crl->size(), " bytes")
                                       : std::string(crl.status().message())});
      if (crl.ok()) facts.crls.push_back(*std::move(crl));
    }
    if (!facts.crls.empty()) report = AnalyzeChain(chain, facts, *trust, *policy, now_unix, cache);
  }
  report.aia = std::move(aia_log);
  const NormalizedChain& n = report.chain;
  std::vector<bool> filled(chain.size(), false);
  for (size_t i = 0; i < n.certs.size(); ++i) {
    const int served = n.served_index[i];
    if (served >= 0 && static_cast<size_t>(served) < chain.size()) {
      FillCertificate(n.certs[i], &info->certificates[served]);
      filled[served] = true;
    }
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    if (filled[i]) continue;
    info->certificates[i].sha256_hex = Sha256Hex(chain[i]);
    info->certificates[i].parse_error = "certificate does not parse";
  }
  info->analysed = true;
  info->trusted = report.validation.trusted;
  info->reasons = report.validation.reasons;
  for (const Finding& f : report.findings) {
    info->findings.push_back(
        {f.id, SeverityName(f.severity), f.message, f.cert, f.days_left});
  }
  // Server-controlled text may be any bytes: invalid UTF-8 is replaced.
  info->analysis_json = ReportToJson(report).dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return info;
}

absl::StatusOr<std::unique_ptr<ChainAnalyzer>> ChainAnalyzer::Create(
    uv_loop_t* loop, const TrustStore* trust, const Policy* policy,
    uint32_t num_threads, ReadyCallback ready, Fetching fetching) {
  std::unique_ptr<ChainAnalyzer> a(
      new ChainAnalyzer(loop, trust, policy, std::move(ready), fetching));
  if (int r = uv_async_init(loop, &a->async_, [](uv_async_t* h) {
        static_cast<ChainAnalyzer*>(h->data)->OnDone();
      });
      r != 0) {
    return absl::InternalError(absl::StrCat("uv_async_init: ", uv_strerror(r)));
  }
  a->async_.data = a.get();
  a->async_open_ = true;
  // The async handle must not keep the loop alive by itself.
  uv_unref(reinterpret_cast<uv_handle_t*>(&a->async_));
  for (uint32_t i = 0; i < std::max<uint32_t>(num_threads, 1); ++i) {
    a->threads_.emplace_back([p = a.get()] { p->ThreadMain(); });
  }
  return a;
}

ChainAnalyzer::ChainAnalyzer(uv_loop_t* loop, const TrustStore* trust,
                             const Policy* policy, ReadyCallback ready, Fetching fetching)
    : loop_(loop), trust_(trust), policy_(policy), fetching_(fetching), ready_(std::move(ready)) {}

ChainAnalyzer::~ChainAnalyzer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ChainAnalyzer::Submit(ScanRecord&& record) {
  if (record.result.outcome != Outcome::kTls || record.result.chain.empty()) {
    ready_(std::move(record));
    return;
  }
  std::string key = CacheKey(record.result);
  auto it = cache_.find(key);
  if (it != cache_.end() && it->second.info != nullptr) {
    record.chain = it->second.info;
    ready_(std::move(record));
    return;
  }
  if (it == cache_.end() && num_analysing_ >= kMaxAnalysing) {
    // Back-pressure: the pool is behind; analyse here, on the loop thread.
    std::shared_ptr<const ChainInfo> info =
        BuildChainInfo(record.result.chain, HostToCheck(record.result), record.result.version, trust_,
                       policy_, time(nullptr), &certificates_, CachesOnly(fetching_),
                       record.result.ocsp_response);
    ++chains_analysed_;
    ++chains_analysed_inline_;
    if (cache_.size() >= kMaxEntries) EvictAnalysed();
    if (cache_.size() < kMaxEntries) cache_[std::move(key)].info = info;
    record.chain = std::move(info);
    ready_(std::move(record));
    return;
  }
  if (it == cache_.end()) {
    if (cache_.size() >= kMaxEntries) {
      EvictAnalysed();
    }
    Job job{key, record.result.chain, HostToCheck(record.result), record.result.version,
            record.result.ocsp_response};
    it = cache_.emplace(std::move(key), Entry()).first;
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
    ++num_analysing_;
    // While analyses are pending the loop must keep running for them.
    uv_ref(reinterpret_cast<uv_handle_t*>(&async_));
  }
  it->second.waiting.push_back(std::move(record));
  ++num_waiting_;
}

void ChainAnalyzer::EvictAnalysed() {
  // Entries being analysed stay: records wait on them.
  for (auto e = cache_.begin(); e != cache_.end();) {
    if (e->second.info != nullptr) {
      cache_.erase(e++);
    } else {
      ++e;
    }
  }
}

void ChainAnalyzer::ThreadMain() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return shutting_down_ || !jobs_.empty(); });
      if (shutting_down_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    std::shared_ptr<const ChainInfo> info = BuildChainInfo(
        job.chain, job.sni, job.version, trust_, policy_, time(nullptr), &certificates_, fetching_,
        job.ocsp_response);
    // The wake-up is sent under the lock, and Close marks the handle closed
    // under it: no thread sends after Close, so none writes to the loop's
    // descriptors once the loop is closed. (Sent after unlocking, a thread
    // preempted there could find the loop gone; libuv aborts on the failed
    // write, and a reused descriptor would take the bytes. Seen on a loaded
    // machine.)
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back({std::move(job.key), std::move(info)});
    if (!async_closed_) uv_async_send(&async_);
  }
}

void ChainAnalyzer::OnDone() {
  std::vector<Done> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done.swap(done_);
  }
  for (Done& d : done) {
    ++chains_analysed_;
    auto it = cache_.find(d.key);
    if (it == cache_.end()) continue;  // dropped
    it->second.info = d.info;
    std::vector<ScanRecord> waiting;
    waiting.swap(it->second.waiting);
    num_waiting_ -= waiting.size();
    for (ScanRecord& r : waiting) {
      r.chain = d.info;
      ready_(std::move(r));
    }
  }
  num_analysing_ -= done.size();
  if (num_analysing_ == 0 && async_open_) uv_unref(reinterpret_cast<uv_handle_t*>(&async_));
}

uint64_t ChainAnalyzer::MinPending(uint32_t worker) const {
  uint64_t min = UINT64_MAX;
  if (num_waiting_ == 0) return min;
  for (const auto& [key, entry] : cache_) {
    for (const ScanRecord& r : entry.waiting) {
      if (r.worker == worker && r.position < min) min = r.position;
    }
  }
  return min;
}

void ChainAnalyzer::DropWaiting() {
  for (auto& [key, entry] : cache_) entry.waiting.clear();
  num_waiting_ = 0;
}

void ChainAnalyzer::Close() {
  if (!async_open_) return;
  async_open_ = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    async_closed_ = true;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

}  // namespace ers
