#include "scanner/engine.h"

#include <netdb.h>

#include <algorithm>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/ip_address.h"
#include "scanner/fd_limit.h"
#include "scanner/server_list.h"
#include "x509/leaf_names.h"

namespace ers {
namespace {

// kMaxDeferred bounds the jobs parked behind a busy address; past it the
// engine waits for completions instead of walking further.
constexpr size_t kMaxDeferred = 4096;
// The walk stays at most this far ahead of the oldest unfinished position
// (beyond the concurrency), which bounds the bookkeeping's memory.
constexpr size_t kWalkWindowSlack = 1024;

}  // namespace

struct Engine::NameState {
  bool resolving = false;
  std::vector<IpAddress> addresses;
  std::string error;
  std::vector<std::pair<uint64_t, uint16_t>> waiting;  // (position, port)
};

struct Engine::Resolution {
  uv_getaddrinfo_t req;
  Engine* engine;
  std::string name;
};

struct Engine::InFlight {
  InFlight(uv_loop_t* loop, const ClientContext* context, Engine* e, Job j)
      : probe(loop, context), engine(e), job(std::move(j)) {}
  Probe probe;
  Engine* engine;
  Job job;
};

Engine::Engine(uv_loop_t* loop, const TargetSpace* space, TargetWalker* walker,
               const ClientContext* context, EngineOptions options,
               ResultSink sink)
    : loop_(loop),
      space_(space),
      walker_(walker),
      context_(context),
      options_(std::move(options)),
      sink_(std::move(sink)),
      // A burst of 20 ms worth of attempts smooths timer granularity.
      bucket_(options_.rate, options_.rate / 50) {}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(
    uv_loop_t* loop, const TargetSpace* space, TargetWalker* walker,
    const ClientContext* context, EngineOptions options, ResultSink sink) {
  if (loop == nullptr || space == nullptr || walker == nullptr ||
      context == nullptr || !sink) {
    return absl::InvalidArgumentError("Engine::Create: missing argument");
  }
  if (options.per_address_cap == 0) {
    return absl::InvalidArgumentError("per-address cap must be at least 1");
  }
  if (options.rate < 0) {
    return absl::InvalidArgumentError("rate must not be negative");
  }
  std::unique_ptr<Engine> engine(new Engine(loop, space, walker, context,
                                            std::move(options), std::move(sink)));
  const uint64_t fd_limit = CurrentFileLimit();
  const uint64_t by_fds = fd_limit > kReservedFds + 1 ? fd_limit - kReservedFds : 1;
  uint64_t concurrency = engine->options_.concurrency != 0
                             ? engine->options_.concurrency
                             : std::min<uint64_t>(kDefaultConcurrency, by_fds);
  engine->concurrency_ = static_cast<uint32_t>(std::min(concurrency, by_fds));
  engine->effective_concurrency_ = engine->concurrency_;
  for (const auto& [name, address] : engine->options_.resolve) {
    auto& state = engine->names_[name];
    if (!state) state = std::make_unique<NameState>();
    state->addresses.push_back(address);
  }
  if (engine->options_.dns.has_value()) {
    absl::StatusOr<std::unique_ptr<DnsResolver>> dns =
        DnsResolver::Create(loop, *engine->options_.dns);
    if (!dns.ok()) return dns.status();
    engine->dns_ = *std::move(dns);
  }
  uv_timer_init(loop, &engine->pump_timer_);
  engine->pump_timer_.data = engine.get();
  engine->pump_timer_open_ = true;
  return engine;
}

Engine::~Engine() {
  const bool close_handles = pump_timer_open_ || dns_ != nullptr;
  dns_.reset();  // pending queries end (cancelled); its handles close
  if (pump_timer_open_) uv_close(reinterpret_cast<uv_handle_t*>(&pump_timer_), nullptr);
  if (close_handles) uv_run(loop_, UV_RUN_NOWAIT);
}

absl::Status Engine::Run() {
  SchedulePump(0);
  uv_run(loop_, UV_RUN_DEFAULT);
  if (!finished_) {
    return absl::InternalError("the event loop ended before the sweep did");
  }
  return absl::OkStatus();
}

void Engine::Stop() {
  stopping_ = true;
  // Probes waiting to reconnect end with their last attempt's outcome.
  std::deque<InFlight*> waiting;
  waiting.swap(reconnects_);
  for (InFlight* f : waiting) f->probe.Abandon();
  MaybeFinish();
}

uint64_t Engine::ResumePosition() const {
  return outstanding_.empty() ? walker_->position()
                              : outstanding_.begin()->first;
}

void Engine::SchedulePump(uint64_t delay_ms) {
  if (!pump_timer_open_) return;
  uv_timer_start(&pump_timer_, &Engine::PumpTimerCb, delay_ms, 0);
}

void Engine::PumpTimerCb(uv_timer_t* timer) {
  static_cast<Engine*>(timer->data)->Pump();
}

void Engine::OnReconnectWanted(InFlight* f) {
  if (stopping_) {
    f->probe.Abandon();
    return;
  }
  reconnects_.push_back(f);
  Pump();
}

void Engine::Pump() {
  if (pumping_ || finished_) return;
  pumping_ = true;
  // Reconnects (connect retries, fallback rungs) first: they hold a slot
  // already. Every attempt, first or not, takes a token.
  while (!stopping_ && !reconnects_.empty()) {
    if (!bucket_.unlimited()) {
      uint64_t wait_ns = bucket_.NanosUntilNext(uv_hrtime());
      if (wait_ns > 0) {
        SchedulePump((wait_ns + 999999) / 1000000);
        pumping_ = false;
        return;
      }
    }
    InFlight* f = reconnects_.front();
    reconnects_.pop_front();
    bucket_.TryTake(uv_hrtime());
    ++stats_.connect_attempts;
    f->probe.Proceed();
  }
  while (!stopping_ && in_flight_ < effective_concurrency_) {
    if (!bucket_.unlimited()) {
      uint64_t wait_ns = bucket_.NanosUntilNext(uv_hrtime());
      if (wait_ns > 0) {
        SchedulePump((wait_ns + 999999) / 1000000);
        break;
      }
    }
    Job job;
    if (!NextJob(&job)) break;
    bucket_.TryTake(uv_hrtime());
    StartProbe(std::move(job));
  }
  pumping_ = false;
  MaybeFinish();
}

bool Engine::NextJob(Job* job) {
  auto has_room = [this](const IpAddress& a) {
    auto it = per_address_.find(a);
    return it == per_address_.end() || it->second < options_.per_address_cap;
  };
  // Parked jobs first, in order, once their address has room.
  for (auto it = deferred_.begin(); it != deferred_.end(); ++it) {
    if (has_room(it->address)) {
      *job = std::move(*it);
      deferred_.erase(it);
      return true;
    }
  }
  while (true) {
    while (!ready_.empty()) {
      if (has_room(ready_.front().address)) {
        *job = std::move(ready_.front());
        ready_.pop_front();
        return true;
      }
      if (deferred_.size() >= kMaxDeferred) return false;
      deferred_.push_back(std::move(ready_.front()));
      ready_.pop_front();
    }
    if (walker_->done() ||
        outstanding_.size() > concurrency_ + kWalkWindowSlack) {
      return false;
    }
    Target target;
    uint64_t position = 0;
    walker_->Next(&target, &position);
    ++stats_.targets_walked;
    Expand(position, target);
  }
}

void Engine::Expand(uint64_t position, const Target& target) {
  if (target.has_address) {
    AddressJobs(position, target.address, target.port, "");
    return;
  }
  const std::string name(target.name);
  ++outstanding_[position];  // held until the name is resolved
  std::unique_ptr<NameState>& state = names_[name];
  if (!state) {
    state = std::make_unique<NameState>();
    state->resolving = true;
    state->waiting.push_back({position, target.port});
    StartResolution(name);
    return;
  }
  if (state->resolving) {
    state->waiting.push_back({position, target.port});
    return;
  }
  if (!state->error.empty()) {
    Job job;
    job.position = position;
    job.port = target.port;
    job.name = name;
    Emit(job, Outcome::kUnresolved, state->error);
    return;
  }
  for (const IpAddress& a : state->addresses) {
    AddressJobs(position, a, target.port, name);
  }
  JobFinished(position);
}

void Engine::AddressJobs(uint64_t position, const IpAddress& address,
                         uint16_t port, const std::string& name) {
  Job job;
  job.position = position;
  job.address = address;
  job.port = port;
  job.name = name;
  if (space_->IsExcluded(address)) {
    ++outstanding_[position];
    Emit(job, Outcome::kExcluded, space_->WhyNotTarget(address).value_or("excluded"));
    return;
  }
  static const std::vector<std::string> kNoSni = {""};
  const std::vector<std::string>& snis =
      !name.empty() ? std::vector<std::string>{name}
      : (options_.sni_names.empty() || options_.sni_discovery) ? kNoSni
                                                               : options_.sni_names;
  for (const std::string& sni : snis) {
    job.sni = sni;
    ++outstanding_[position];
    ready_.push_back(job);
  }
}

void Engine::StartResolution(const std::string& name) {
  if (dns_ != nullptr) {
    ++resolutions_in_flight_;
    dns_->Addresses(name, options_.max_addresses_per_name,
                    [this, name](absl::StatusOr<std::vector<IpAddress>> addresses) {
                      if (absl::IsCancelled(addresses.status())) return;  // the engine is going
                      --resolutions_in_flight_;
                      OnNameResolved(name, std::move(addresses));
                    });
    return;
  }
  auto* r = new Resolution{{}, this, name};
  r->req.data = r;
  ++resolutions_in_flight_;
  addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(
      loop_, &r->req,
      [](uv_getaddrinfo_t* req, int status, addrinfo* res) {
        auto* res_r = static_cast<Resolution*>(req->data);
        res_r->engine->OnResolved(res_r, status, res);
      },
      name.c_str(), nullptr, &hints);
  if (rc < 0) OnResolved(r, rc, nullptr);
}

void Engine::OnResolved(Resolution* r, int status, addrinfo* res) {
  std::unique_ptr<Resolution> owned(r);
  --resolutions_in_flight_;
  std::vector<IpAddress> addresses;
  for (addrinfo* ai = status < 0 ? nullptr : res; ai != nullptr; ai = ai->ai_next) {
    IpAddress a;
    if (!FromSockaddr(ai->ai_addr, &a)) continue;
    if (std::find(addresses.begin(), addresses.end(), a) == addresses.end() &&
        addresses.size() < options_.max_addresses_per_name) {
      addresses.push_back(a);
    }
  }
  if (res != nullptr) uv_freeaddrinfo(res);
  if (status < 0) {
    OnNameResolved(r->name, absl::NotFoundError(absl::StrCat("cannot resolve ", r->name, ": ",
                                                             uv_strerror(status))));
  } else if (addresses.empty()) {
    OnNameResolved(r->name,
                   absl::NotFoundError(absl::StrCat("cannot resolve ", r->name, ": no address")));
  } else {
    OnNameResolved(r->name, std::move(addresses));
  }
}

void Engine::OnNameResolved(const std::string& name,
                            absl::StatusOr<std::vector<IpAddress>> addresses) {
  ++stats_.names_resolved;
  NameState& state = *names_[name];
  state.resolving = false;
  if (addresses.ok()) {
    state.addresses = *std::move(addresses);
  } else {
    state.error = std::string(addresses.status().message());
  }
  std::vector<std::pair<uint64_t, uint16_t>> waiting;
  waiting.swap(state.waiting);
  for (const auto& [position, port] : waiting) {
    if (!state.error.empty()) {
      Job job;
      job.position = position;
      job.port = port;
      job.name = name;
      Emit(job, Outcome::kUnresolved, state.error);
      continue;
    }
    for (const IpAddress& a : state.addresses) {
      AddressJobs(position, a, port, name);
    }
    JobFinished(position);
  }
  Pump();
}

void Engine::StartProbe(Job job) {
  ++per_address_[job.address];
  ++in_flight_;
  stats_.peak_in_flight = std::max(stats_.peak_in_flight, in_flight_);
  if (job.resource_retries == 0) ++stats_.probes_started;
  ProbeTarget target;
  target.address = job.address;
  target.port = job.port;
  target.name = job.name;
  target.sni = job.sni;
  target.starttls = options_.starttls.For(job.port);
  auto* f = new InFlight(loop_, context_, this, std::move(job));
  ++stats_.connect_attempts;  // the first attempt took its token in Pump
  f->probe.SetConnectGate(
      [](Probe*, void* arg) {
        auto* waiting = static_cast<InFlight*>(arg);
        waiting->engine->OnReconnectWanted(waiting);
      },
      f);
  f->probe.Start(std::move(target),
                 [](Probe*, void* arg) {
                   auto* done = static_cast<InFlight*>(arg);
                   done->engine->OnProbeDone(done);
                 },
                 f);
}

void Engine::OnProbeDone(InFlight* f) {
  std::unique_ptr<InFlight> owned(f);
  --in_flight_;
  auto it = per_address_.find(f->job.address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
  ProbeResult& result = f->probe.mutable_result();
  if (result.outcome == Outcome::kNoResources) {
    // Back-pressure: no socket or port now. Retry this target later with
    // fewer connections in flight; never drop it.
    ++stats_.backpressure_events;
    Job job = std::move(f->job);
    if (++job.resource_retries > options_.max_resource_retries) {
      Emit(job, Outcome::kError,
           absl::StrCat("no socket after ", options_.max_resource_retries,
                        " retries: ", result.detail));
    } else {
      ready_.push_front(std::move(job));
      effective_concurrency_ = std::max<uint32_t>(
          1, std::min<uint64_t>(effective_concurrency_, in_flight_));
      SchedulePump(options_.backpressure_delay_ms);
      return;
    }
  } else {
    const Job& job = f->job;
    if (job.sni_source != SniSource::kNone) {
      ++stats_.sni_probes;
      result.sni_source = job.sni_source;
      result.differs_from_default = result.outcome == Outcome::kTls && !result.chain.empty() &&
                                    result.chain[0] != *job.default_leaf;
      if (result.differs_from_default) ++stats_.sni_virtual_hosts;
      if (!result.differs_from_default && job.sni_source != SniSource::kSni) {
        // Nothing new behind this name: the address's record says it all.
        JobFinished(job.position);
        if (effective_concurrency_ < concurrency_) ++effective_concurrency_;
        Pump();
        return;
      }
    } else if (options_.sni_discovery && !stopping_ && job.name.empty() && job.sni.empty() &&
               ((result.outcome == Outcome::kTls && !result.chain.empty()) ||
                result.outcome == Outcome::kTlsAlert)) {
      // A server that ends a handshake without SNI with an alert may still
      // answer the names given with --sni.
      std::string leaf = result.chain.empty() ? std::string() : result.chain[0];
      if (options_.sni_ptr && dns_ != nullptr) {
        // The address's PTR names first; the position waits for them.
        ++outstanding_[job.position];
        ++resolutions_in_flight_;
        dns_->Ptr(job.address, [this, job, leaf = std::move(leaf)](
                                   absl::StatusOr<std::vector<std::string>> names) {
          if (absl::IsCancelled(names.status())) return;  // the engine is going
          --resolutions_in_flight_;
          if (!stopping_) {
            DiscoverNames(job, leaf, names.ok() ? *names : std::vector<std::string>());
          }
          JobFinished(job.position);
          Pump();
        });
      } else {
        DiscoverNames(job, leaf, {});
      }
    }
    Deliver(std::move(result), f->job.position);
    JobFinished(f->job.position);
    if (effective_concurrency_ < concurrency_) ++effective_concurrency_;
  }
  Pump();
}

void Engine::DiscoverNames(const Job& job, const std::string& leaf,
                           const std::vector<std::string>& ptr_names) {
  std::vector<std::pair<std::string, SniSource>> candidates;
  auto consider = [&](std::string name, SniSource source) {
    if (candidates.size() >= options_.sni_max) return;
    name = absl::AsciiStrToLower(name);
    if (!name.empty() && name.back() == '.') name.pop_back();
    // A host name, not a wildcard, not an address literal, not yet listed.
    if (name.find('.') == std::string::npos || !ValidateHostName(name).ok() ||
        ParseIpAddress(name).ok()) {
      return;
    }
    for (const auto& [known, unused] : candidates) {
      if (known == name) return;
    }
    candidates.emplace_back(std::move(name), source);
  };
  CertificateNames names = ReadCertificateNames(leaf, 4 * options_.sni_max + 16);
  for (std::string& dns : names.dns_names) consider(std::move(dns), SniSource::kSan);
  consider(std::move(names.common_name), SniSource::kCn);
  for (const std::string& ptr : ptr_names) consider(ptr, SniSource::kPtr);
  for (const std::string& sni : options_.sni_names) consider(sni, SniSource::kSni);
  if (candidates.empty()) return;
  auto default_leaf = std::make_shared<const std::string>(leaf);
  for (auto& [name, source] : candidates) {
    Job follow_up;
    follow_up.position = job.position;
    follow_up.address = job.address;
    follow_up.port = job.port;
    follow_up.name = name;
    follow_up.sni = std::move(name);
    follow_up.sni_source = source;
    follow_up.default_leaf = default_leaf;
    ++outstanding_[job.position];
    ready_.push_back(std::move(follow_up));
  }
}

void Engine::Emit(const Job& job, Outcome outcome, std::string detail) {
  ProbeResult r;
  r.address = job.address;
  r.port = job.port;
  r.name = job.name;
  r.sni = job.sni;
  r.outcome = outcome;
  r.detail = std::move(detail);
  r.mode = context_->options().mode;
  r.start_unix_ms = static_cast<int64_t>(absl::ToUnixMillis(absl::Now()));
  Deliver(std::move(r), job.position);
  JobFinished(job.position);
}

void Engine::Deliver(ProbeResult&& result, uint64_t position) {
  ++stats_.results;
  ++stats_.by_outcome[static_cast<size_t>(result.outcome)];
  sink_(std::move(result), position);
}

void Engine::JobFinished(uint64_t position) {
  auto it = outstanding_.find(position);
  if (it != outstanding_.end() && --it->second == 0) outstanding_.erase(it);
}

void Engine::MaybeFinish() {
  if (finished_ || pumping_ || in_flight_ > 0 || resolutions_in_flight_ > 0) {
    return;
  }
  const bool all_done = walker_->done() && ready_.empty() && deferred_.empty();
  if (!stopping_ && !all_done) return;
  finished_ = true;
  if (pump_timer_open_) {
    pump_timer_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&pump_timer_), nullptr);
  }
}

}  // namespace ers
