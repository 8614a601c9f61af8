// issuer_fetcher.h: fetches the certificates a chain's Authority
// Information Access caIssuers URL names (RFC 5280 4.2.2.1), so that the
// path builder can complete a chain the server left incomplete and tell a
// missing intermediate from an unknown root. x509/ does no I/O; this
// package does it and hands x509/ the DER.
//
// Bounds: http and https only, a body of at most 64 KiB, a time limit per
// fetch. Every address a fetch connects to, after every redirect and DNS
// answer, is checked against the exclusions before the connection is made
// (the downloader's contract, ers/issuer_downloader.h): a certificate must
// not be able to point the scanner at addresses the operator excluded. Results are cached by URL
// in memory for the run and, with a cache directory, on disk until they
// expire. Fetch blocks the calling thread: call it from the analysis pool,
// never from an event loop.
#ifndef ERS_AIA_ISSUER_FETCHER_H_
#define ERS_AIA_ISSUER_FETCHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "ers/ip_address.h"
#include "ers/issuer_downloader.h"

namespace ers {

struct IssuerFetcherOptions {
  // cache_dir: where fetched bodies are kept between runs ("" for none);
  // created (0700) when missing.
  std::string cache_dir;
  int64_t cache_ttl_s = 7 * 86400;
  size_t max_bytes = 64 * 1024;
  int64_t timeout_ms = 5000;
  // downloader: does the HTTP (ers/issuer_downloader.h). Null: only the
  // disk cache answers.
  std::shared_ptr<IssuerDownloader> downloader;
  // excluded: whether an address must not be contacted. Called from the
  // fetching thread; must be thread-safe. Null: nothing is excluded.
  std::function<bool(const IpAddress&)> excluded;
};

// IssuerFetchStats counts what the fetcher did, for the scan's summary.
struct IssuerFetchStats {
  uint64_t fetched = 0;      // fetches tried over the network
  uint64_t cache_hits = 0;   // answered from memory or disk
  uint64_t refused = 0;      // an excluded address, a scheme not allowed
  uint64_t failed = 0;       // timeouts, HTTP errors, too large, not certificates
  // OCSP responders asked (--revocation ocsp), and how many of those failed
  // (refused ones included).
  uint64_t ocsp_queries = 0;
  uint64_t ocsp_failed = 0;
  // CRLs (--revocation crl): fetched over the network, from the caches,
  // failed (refused ones included).
  uint64_t crl_fetched = 0;
  uint64_t crl_cache_hits = 0;
  uint64_t crl_failed = 0;
};

class IssuerFetcher {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<IssuerFetcher>> Create(
      IssuerFetcherOptions options);

  // Fetch returns the DER certificates at |url|: a DER certificate, a
  // PKCS#7 certs-only bundle (DER or PEM) or PEM certificates. With
  // |network| false only the caches are asked (kUnavailable when the URL is
  // not there). Errors name the URL and why. Thread-safe.
  [[nodiscard]] absl::StatusOr<std::vector<std::string>> Fetch(const std::string& url,
                                                               bool network = true);

  // FetchOcsp asks the OCSP responder at |responder_url| (http or https)
  // about |request| (a DER OCSPRequest) with an HTTP GET (RFC 6960 A.1),
  // within the same bounds and exclusions, and returns the response's DER
  // (judged by the caller, x509/ocsp.h). Answers are remembered for the run
  // only: they go stale. Thread-safe.
  [[nodiscard]] absl::StatusOr<std::string> FetchOcsp(const std::string& responder_url,
                                                      absl::string_view request);

  // FetchCrl returns the CRL at |url| (http or https; DER, or PEM turned
  // into DER), at most kMaxCrlBytes, within the same time limit and
  // exclusions; kept on disk for a day and remembered for the run. The
  // caller judges it (x509/crl.h). Thread-safe.
  static constexpr size_t kMaxCrlBytes = 4 << 20;
  [[nodiscard]] absl::StatusOr<std::string> FetchCrl(const std::string& url);

  IssuerFetchStats stats() const;

 private:
  explicit IssuerFetcher(IssuerFetcherOptions options) : options_(std::move(options)) {}
  static bool Fetchable(const std::string& url);  // http or https
  // Get downloads |url| (at most |max_bytes|) through the downloader, with
  // the time limit and the exclusions; a scheme other than http(s) is
  // refused, and without a downloader nothing is fetched.
  absl::StatusOr<std::string> Get(const std::string& url, size_t max_bytes);
  // Claim waits while another thread fetches |key|, then returns true when
  // the caller should fetch it (and Release it after); false when |memo|
  // now holds the answer.
  template <typename Memo>
  bool Claim(const std::string& key, const Memo& memo) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Release(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { in_flight_.erase(key); }
  // Memoize and MemoizeCrl remember an answer for the run, within bounds.
  static constexpr size_t kMaxMemoEntries = 4096;
  static constexpr size_t kMaxCrlMemoBytes = 64 << 20;
  template <typename Memo, typename Value>
  void Memoize(Memo& memo, const std::string& key, Value value) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MemoizeCrl(const std::string& key, absl::StatusOr<std::string> crl)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string CachePath(const std::string& url) const;

  const IssuerFetcherOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, absl::StatusOr<std::vector<std::string>>> memo_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::StatusOr<std::string>> ocsp_memo_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, absl::StatusOr<std::string>> crl_memo_ ABSL_GUARDED_BY(mu_);
  size_t crl_memo_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // URLs being fetched: a second thread asking for one waits for the first
  // (chains sharing an intermediate are analysed side by side).
  absl::flat_hash_set<std::string> in_flight_ ABSL_GUARDED_BY(mu_);
  IssuerFetchStats stats_ ABSL_GUARDED_BY(mu_);
};

// OcspGetUrl is the GET form of an OCSP request to |responder_url|: the
// URL, a slash, and the request's base64 with '+', '/' and '=' escaped.
std::string OcspGetUrl(absl::string_view responder_url, absl::string_view request);

// ParseIssuerCertificates reads a caIssuers body: one DER certificate, a
// PKCS#7 SignedData certs-only bundle in DER or PEM, or PEM certificates.
// Returns their DER, or kInvalidArgument saying what the body is not.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ParseIssuerCertificates(
    absl::string_view body);

}  // namespace ers

#endif  // ERS_AIA_ISSUER_FETCHER_H_
