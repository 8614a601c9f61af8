// chain_analyzer.h: gives every TLS record its ChainInfo. Each distinct
// chain (the served DER sequence, with the SNI and TLS version the analysis
// depends on) is parsed and analysed once, on a small pool of threads, and
// the result is shared by every record that served it (a bounded cache).
// Records whose chain is being analysed wait; the loop thread hands them
// on when the analysis is done.
//
// Threading: Submit, MinPending and Close are called on the loop's thread;
// the ready callback runs there too (from Submit itself on a cache hit, or
// from the loop's async handle). The pool threads only read the trust store
// and policy, which must outlive the analyzer.
#ifndef ERS_SWEEP_CHAIN_ANALYZER_H_
#define ERS_SWEEP_CHAIN_ANALYZER_H_

#include <uv.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "aia/issuer_fetcher.h"
#include "ers/record.h"
#include "x509/certificate_cache.h"
#include "x509/findings.h"
#include "x509/trust_store.h"

namespace ers {

// Fetching says what the analysis may fetch, through |fetcher| (null:
// nothing): the issuers a chain lacks, from their AIA caIssuers URLs
// (|complete_chains|, at most kMaxAiaFetches per chain), and, for a leaf
// whose server stapled nothing, an OCSP response from its responder
// (|ask_ocsp|, --revocation ocsp), and the CRLs the path's certificates
// name (|fetch_crls|, --revocation crl, at most 2 per certificate). With
// |network| false nothing is fetched, so that the loop thread never waits
// on the network (AIA issuers still come from the caches).
struct Fetching {
  IssuerFetcher* fetcher = nullptr;
  bool complete_chains = false;
  bool ask_ocsp = false;
  bool fetch_crls = false;
  bool network = true;
};

// BuildChainInfo parses |chain| and, when |trust| and |policy| are not null,
// validates it at |now_unix| and lists its findings. Any thread.
// |cache|, when not null, parses each distinct certificate once.
// |ocsp_response|, the staple, is judged with the chain.
std::shared_ptr<const ChainInfo> BuildChainInfo(
    const std::vector<std::string>& chain, const std::string& sni,
    uint16_t tls_version, const TrustStore* trust, const Policy* policy,
    int64_t now_unix, CertificateCache* cache = nullptr, const Fetching& fetching = {},
    const std::string& ocsp_response = "");
inline constexpr int kMaxAiaFetches = 4;

class ChainAnalyzer {
 public:
  using ReadyCallback = std::function<void(ScanRecord&& record)>;

  // Create starts |num_threads| threads (at least 1). With |trust| or
  // |policy| null the analyzer only parses. |ready| receives every record
  // submitted, exactly once.
  // |fetching| (see BuildChainInfo) applies on the pool threads; on the
  // loop thread (back-pressure) only caches answer. Its fetcher must
  // outlive the analyzer.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ChainAnalyzer>> Create(
      uv_loop_t* loop, const TrustStore* trust, const Policy* policy,
      uint32_t num_threads, ReadyCallback ready, Fetching fetching = {});
  // The destructor stops the threads; Close must have been called.
  ~ChainAnalyzer();

  // Submit hands |record| on: at once when it is not a TLS result or its
  // chain is known, else when its chain has been analysed.
  void Submit(ScanRecord&& record);

  // MinPending returns the lowest walk position of a waiting record of
  // |worker|, or UINT64_MAX when none waits.
  uint64_t MinPending(uint32_t worker) const;
  size_t num_waiting() const { return num_waiting_; }
  uint64_t chains_analysed() const { return chains_analysed_; }
  // certificates_parsed counts distinct certificates parsed.
  uint64_t certificates_parsed() const { return certificates_.num_parsed(); }

  // DropWaiting forgets the waiting records (a sweep that stopped on an
  // error); they are not handed on.
  void DropWaiting();
  // Close closes the loop handle; the loop must run once more to finish.
  void Close();

  // kMaxEntries bounds the cache; when full, analysed entries are evicted.
  static constexpr size_t kMaxEntries = 4096;
  // kMaxAnalysing bounds the chains queued for or in analysis. Past it the
  // loop thread analyses the next new chain itself: probing then slows to
  // the analysis's pace instead of records piling up in memory (a farm
  // that serves a fresh chain on every endpoint is a remote's choice).
  static constexpr size_t kMaxAnalysing = 256;
  // num_analysing is the number of chains queued for or in analysis.
  size_t num_analysing() const { return num_analysing_; }
  // chains_analysed_inline counts chains the loop thread analysed itself.
  uint64_t chains_analysed_inline() const { return chains_analysed_inline_; }

 private:
  struct Entry {
    std::shared_ptr<const ChainInfo> info;  // null while being analysed
    std::vector<ScanRecord> waiting;
  };
  struct Job {
    std::string key;
    std::vector<std::string> chain;
    std::string sni;
    uint16_t version = 0;
    std::string ocsp_response;
  };
  struct Done {
    std::string key;
    std::shared_ptr<const ChainInfo> info;
  };

  ChainAnalyzer(uv_loop_t* loop, const TrustStore* trust, const Policy* policy,
                ReadyCallback ready, Fetching fetching);
  void ThreadMain();
  void EvictAnalysed();
  void OnDone();  // on the loop thread

  uv_loop_t* loop_;
  CertificateCache certificates_;  // shared by the threads
  const TrustStore* trust_;
  const Policy* policy_;
  Fetching fetching_;
  ReadyCallback ready_;
  uv_async_t async_;
  bool async_open_ = false;

  absl::flat_hash_map<std::string, Entry> cache_;  // loop thread only
  size_t num_waiting_ = 0;
  size_t num_analysing_ = 0;  // jobs not yet back
  uint64_t chains_analysed_inline_ = 0;
  uint64_t chains_analysed_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;    // guarded by mu_
  std::vector<Done> done_;  // guarded by mu_
  bool shutting_down_ = false;  // guarded by mu_
  bool async_closed_ = false;   // guarded by mu_: no more uv_async_send
  std::vector<std::thread> threads_;
};

}  // namespace ers

#endif  // ERS_SWEEP_CHAIN_ANALYZER_H_
