// engine.h: the sweep engine. One libuv loop pulls targets from a walker and
// keeps up to a concurrency limit of probes in flight, under a token-bucket
// rate limit on connection attempts and a cap per address. Host names are
// resolved asynchronously; every address a name resolves to is probed with
// the name as SNI, after the exclusion check. Results go to the caller's
// sink as they complete. The engine owns no global state and prints nothing;
// one engine per loop, so a loop per core is a matter of sharding.
#ifndef ERS_SCANNER_ENGINE_H_
#define ERS_SCANNER_ENGINE_H_

#include <uv.h>

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "scanner/dns_resolver.h"
#include "scanner/target_space.h"
#include "scanner/target_walker.h"
#include "scanner/token_bucket.h"
#include "tlsprobe/client_context.h"
#include "tlsprobe/probe.h"
#include "ers/record.h"

namespace ers {

struct EngineOptions {
  // concurrency caps probes in flight; 0 picks a default sized to the open
  // file limit (kDefaultConcurrency at most). It is always clamped to the
  // file limit less kReservedFds.
  uint32_t concurrency = 0;
  // rate limits connection attempts per second (0: unlimited): every
  // attempt counts, first tries, connect retries and fallback reconnects.
  double rate = 0;
  // per_address_cap limits probes in flight to one address.
  uint32_t per_address_cap = 32;
  // sni_names are sent, one probe each, to address targets (which otherwise
  // send no SNI). An empty string in the list means "no SNI". With
  // sni_discovery they are candidates instead (below).
  std::vector<std::string> sni_names;
  // sni_discovery: once an address target (no name) answers without SNI
  // with a chain (or an alert: then only sni_names are tried), the same address and port is probed once with each name
  // its leaf is issued for (subjectAltName dNSNames, then a CN that looks
  // like a host name; wildcards are skipped, no concrete name being known
  // for them), then each of sni_names, at most sni_max names per endpoint.
  // These probes count against the rate and the per-address cap like any
  // other, and the target's walk position stays outstanding until they end.
  // A probe of a name from the certificate reaches the sink only when it
  // found a virtual host (another leaf): one that got the default
  // certificate back, or failed, is counted in EngineStats and dropped, so
  // that an address with one certificate keeps one record. A probe of a
  // name from sni_names always reaches the sink (it was asked for).
  bool sni_discovery = false;
  uint32_t sni_max = 16;
  // sni_ptr adds the address's PTR names (through |dns|, which must be set)
  // to the candidates, before sni_names.
  bool sni_ptr = false;
  // max_addresses_per_name bounds how many addresses of one name are probed.
  uint32_t max_addresses_per_name = 16;
  // resolve maps host names to addresses without DNS (like curl --resolve).
  std::vector<std::pair<std::string, IpAddress>> resolve;
  // dns, when set, resolves host names through c-ares on the loop with these
  // options (a given --resolver, or the system's configuration); unset, the
  // system's getaddrinfo in libuv's thread pool does.
  std::optional<DnsOptions> dns;
  // starttls says which ports are upgraded with STARTTLS.
  StarttlsTable starttls;
  // backpressure_delay_ms is how long to wait after EMFILE/ENOBUFS before
  // starting probes again; max_resource_retries bounds retries of one target.
  uint32_t backpressure_delay_ms = 20;
  uint32_t max_resource_retries = 200;
};

inline constexpr uint32_t kDefaultConcurrency = 10000;
inline constexpr uint32_t kReservedFds = 64;  // stdio, inventory, resolver

// EngineStats counts what a run did.
struct EngineStats {
  uint64_t targets_walked = 0;   // walk positions taken from the walker
  uint64_t probes_started = 0;   // probes started (not counting retries)
  uint64_t connect_attempts = 0; // every connection attempt, each one token
  uint64_t results = 0;          // results handed to the sink
  std::array<uint64_t, kNumOutcomes> by_outcome{};  // indexed by Outcome
  uint64_t backpressure_events = 0;  // EMFILE/ENOBUFS/EADDRNOTAVAIL seen
  uint64_t peak_in_flight = 0;
  uint64_t names_resolved = 0;
  // SNI discovery: probes made, and of them those that found a virtual
  // host (a leaf other than the address's default).
  uint64_t sni_probes = 0;
  uint64_t sni_virtual_hosts = 0;
};

class Engine {
 public:
  // ResultSink receives each result, which it may move from, with the walk
  // position of its target. The position stays outstanding (see
  // ResumePosition) until the sink returns.
  using ResultSink = std::function<void(ProbeResult&& result, uint64_t position)>;

  // Create prepares a sweep of |walker| (over |space|) on |loop| with probes
  // configured by |context|; all must outlive the engine. |sink| receives
  // every result on the loop's thread.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Engine>> Create(
      uv_loop_t* loop, const TargetSpace* space, TargetWalker* walker,
      const ClientContext* context, EngineOptions options, ResultSink sink);
  ~Engine();

  // Run drives the loop until every target of the walk has a result, or
  // Stop was called and the probes in flight have finished.
  [[nodiscard]] absl::Status Run();

  // Stop ends the run early: no new probe starts, the ones in flight finish.
  // Call it on the loop's thread (e.g. from a uv_signal_t callback).
  void Stop();
  bool stopped() const { return stopping_; }

  // ResumePosition returns the walk position from which a later run must
  // start so that no target is lost: the lowest position not yet finished.
  uint64_t ResumePosition() const;

  const EngineStats& stats() const { return stats_; }
  uint32_t concurrency() const { return concurrency_; }
  uint64_t in_flight() const { return in_flight_; }

 private:
  // Job is one probe to run: an address, port and SNI from walk |position|.
  struct Job {
    uint64_t position = 0;
    IpAddress address;
    uint16_t port = 0;
    std::string name;
    std::string sni;
    uint32_t resource_retries = 0;
    // For SNI discovery probes: why this name, and the leaf the address
    // sent without SNI.
    SniSource sni_source = SniSource::kNone;
    std::shared_ptr<const std::string> default_leaf;
  };
  struct NameState;
  struct Resolution;
  struct InFlight;

  Engine(uv_loop_t* loop, const TargetSpace* space, TargetWalker* walker,
         const ClientContext* context, EngineOptions options, ResultSink sink);

  // Pump starts probes while there is room, tokens and work.
  void Pump();
  void SchedulePump(uint64_t delay_ms);
  // NextJob fills |*job| from the queues or the walker; false if none now.
  bool NextJob(Job* job);
  // Expand turns a walk target into jobs (or a resolution for a name).
  void Expand(uint64_t position, const Target& target);
  void AddressJobs(uint64_t position, const IpAddress& address, uint16_t port,
                   const std::string& name);
  void StartResolution(const std::string& name);
  void OnResolved(Resolution* r, int status, addrinfo* res);
  // OnNameResolved takes |name|'s addresses (or why there are none) and
  // starts the targets that waited for them.
  void OnNameResolved(const std::string& name, absl::StatusOr<std::vector<IpAddress>> addresses);
  void StartProbe(Job job);
  // DiscoverNames queues SNI discovery probes after |job| (an address
  // target probed without SNI) got a chain whose leaf is |leaf| ("" for
  // none: an alert).
  void DiscoverNames(const Job& job, const std::string& leaf,
                     const std::vector<std::string>& ptr_names);
  void OnProbeDone(InFlight* f);
  // OnReconnectWanted queues a probe that wants another connection attempt
  // until the rate limit allows it.
  void OnReconnectWanted(InFlight* f);
  // Emit hands a result not produced by a probe to the sink.
  void Emit(const Job& job, Outcome outcome, std::string detail);
  void Deliver(ProbeResult&& result, uint64_t position);
  void JobFinished(uint64_t position);
  void MaybeFinish();

  static void PumpTimerCb(uv_timer_t* timer);

  uv_loop_t* loop_;
  const TargetSpace* space_;
  TargetWalker* walker_;
  const ClientContext* context_;
  EngineOptions options_;
  ResultSink sink_;

  uint32_t concurrency_ = 0;
  uint32_t effective_concurrency_ = 0;  // lowered under back-pressure
  TokenBucket bucket_;
  uv_timer_t pump_timer_;
  bool pump_timer_open_ = false;
  bool pumping_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  uint64_t in_flight_ = 0;
  uint32_t resolutions_in_flight_ = 0;

  std::deque<InFlight*> reconnects_;  // probes waiting for a token
  std::deque<Job> ready_;     // jobs ready to start
  std::deque<Job> deferred_;  // jobs waiting for their address's cap
  absl::flat_hash_map<IpAddress, uint32_t> per_address_;
  absl::flat_hash_map<std::string, std::unique_ptr<NameState>> names_;
  std::unique_ptr<DnsResolver> dns_;  // when options_.dns is set
  // Walk positions not finished yet, with their unfinished jobs.
  std::map<uint64_t, uint32_t> outstanding_;
  EngineStats stats_;
};

}  // namespace ers

#endif  // ERS_SCANNER_ENGINE_H_
