// sweep.cc: the Sweep behind include/ers/sweep.h. One libuv loop on the
// caller's thread runs either the engine itself or, with worker processes,
// one pipe per worker; every result becomes a ScanRecord that waits for its
// chain's analysis (ChainAnalyzer) and is then handed to the sinks. A timer
// asks the sinks to checkpoint with the resume point that covers every
// record they have received.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "absl/strings/str_join.h"
#include "base/sigpipe.h"
#include "ers/sweep.h"
#include "base/printable.h"
#include "sweep/chain_analyzer.h"
#include "sweep/sweep_plan.h"
#include "sweep/worker_codec.h"

namespace ers {
namespace {

constexpr size_t kListedEndpoints = 20;

// EndpointLine describes a TLS endpoint for people: where, the version, and
// the leaf by subject, issuer and expiry (the chain's length without
// analysis).
std::string EndpointLine(const ScanRecord& record) {
  const ProbeResult& r = record.result;
  std::string host = r.address.family == IpFamily::kV6
                         ? absl::StrCat("[", r.address.ToString(), "]")
                         : r.address.ToString();
  std::string leaf;
  if (record.chain != nullptr && !record.chain->certificates.empty()) {
    const CertificateInfo& c = record.chain->certificates[0];
    leaf = absl::StrCat(
        c.subject_cn.empty() ? c.subject : c.subject_cn, "  issuer ",
        c.issuer_org.empty() ? c.issuer_cn : c.issuer_org, "  expires ",
        absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(c.not_after_unix),
                         absl::UTCTimeZone()));
  } else {
    leaf = absl::StrCat("chain of ", r.chain.size());
  }
  return absl::StrFormat("%-22s %-8s %s%s", absl::StrCat(host, ":", r.port), r.version_name,
                         Printable(leaf), r.sni.empty() ? "" : absl::StrCat(", SNI ", r.sni));
}

void AddStats(const EngineStats& s, SweepSummary* out) {
  out->targets_walked += s.targets_walked;
  out->results += s.results;
  for (size_t i = 0; i < s.by_outcome.size(); ++i) out->by_outcome[i] += s.by_outcome[i];
  out->backpressure_events += s.backpressure_events;
  out->peak_in_flight += s.peak_in_flight;
  out->names_resolved += s.names_resolved;
  out->sni_probes += s.sni_probes;
  out->sni_virtual_hosts += s.sni_virtual_hosts;
}

bool WriteAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}

// RunWorkerChild is a worker process's whole life: sweep its sub-shard on a
// fresh loop and write frames to |fd|. It never returns.
[[noreturn]] void RunWorkerChild(const SweepPlan& plan, uint32_t worker, int fd) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  WorkerReport report;
  TargetWalker walker(plan.space.get(), plan.seed, plan.WorkerShard(worker));
  if (plan.start_positions[worker] > 0) {
    // Checked by BuildSweepPlan; replayed here.
    (void)walker.RestorePosition(walker.SavePosition(plan.start_positions[worker]));
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::string out;
  bool pipe_broken = false;
  absl::StatusOr<std::unique_ptr<ClientContext>> context = ClientContext::Create(plan.probe);
  if (!context.ok()) {
    report.error = std::string(context.status().message());
  } else {
    EngineOptions eo = plan.engine;
    eo.concurrency = (plan.engine.concurrency + plan.workers - 1) / plan.workers;
    Engine* engine_ptr = nullptr;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(
        &loop, plan.space.get(), &walker, context->get(), eo,
        [&](ProbeResult&& r, uint64_t position) {
          AppendRecordFrame(r, position, engine_ptr->ResumePosition(), &out);
          if (out.size() >= (64 << 10)) {
            if (!pipe_broken && !WriteAll(fd, out.data(), out.size())) {
              pipe_broken = true;
              engine_ptr->Stop();
            }
            out.clear();
          }
        });
    if (!engine.ok()) {
      report.error = std::string(engine.status().message());
    } else {
      engine_ptr = engine->get();
      // Flush what a loop turn produced, so the parent sees results
      // promptly even when they come slowly.
      uv_check_t flush;
      uv_check_init(&loop, &flush);
      struct FlushState {
        std::string* out;
        int fd;
        bool* broken;
        Engine* engine;
      } flush_state{&out, fd, &pipe_broken, engine_ptr};
      flush.data = &flush_state;
      uv_check_start(&flush, [](uv_check_t* h) {
        auto* s = static_cast<FlushState*>(h->data);
        if (s->out->empty()) return;
        if (!*s->broken && !WriteAll(s->fd, s->out->data(), s->out->size())) {
          *s->broken = true;
          s->engine->Stop();
        }
        s->out->clear();
      });
      uv_unref(reinterpret_cast<uv_handle_t*>(&flush));
      uv_signal_t signals[2];
      const int kSignals[2] = {SIGINT, SIGTERM};
      for (int i = 0; i < 2; ++i) {
        uv_signal_init(&loop, &signals[i]);
        signals[i].data = engine_ptr;
        uv_signal_start(
            &signals[i],
            [](uv_signal_t* h, int) { static_cast<Engine*>(h->data)->Stop(); },
            kSignals[i]);
        uv_unref(reinterpret_cast<uv_handle_t*>(&signals[i]));
      }
      absl::Status run = engine_ptr->Run();
      if (!run.ok()) report.error = std::string(run.message());
      report.stats = engine_ptr->stats();
      report.interrupted = engine_ptr->stopped();
      report.concurrency = engine_ptr->concurrency();
      report.resume_position = engine_ptr->ResumePosition();
      for (uv_signal_t& s : signals) uv_close(reinterpret_cast<uv_handle_t*>(&s), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&flush), nullptr);
      engine->reset();
      uv_run(&loop, UV_RUN_DEFAULT);
    }
  }
  AppendReportFrame(report, &out);
  if (!pipe_broken) WriteAll(fd, out.data(), out.size());
  close(fd);
  _exit(0);
}

class SweepImpl : public Sweep {
 public:
  explicit SweepImpl(SweepPlan plan, const SweepOptions& options)
      : plan_(std::move(plan)),
        checkpoint_interval_ms_(static_cast<uint64_t>(
            std::max<int64_t>(1, absl::ToInt64Milliseconds(options.checkpoint_interval)))),
        checkpoint_records_(std::max<uint32_t>(1, options.checkpoint_records)) {
    for (uint32_t w = 0; w < plan_.workers; ++w) {
      walkers_.push_back(std::make_unique<TargetWalker>(plan_.space.get(), plan_.seed,
                                                        plan_.WorkerShard(w)));
      num_targets_ += walkers_.back()->shard_size();
      remaining_at_start_ += walkers_.back()->shard_size() - plan_.start_positions[w];
    }
    marks_ = plan_.start_positions;
    caps_.assign(plan_.workers, UINT64_MAX);
    progress_targets_ = remaining_at_start_;
  }
  ~SweepImpl() override = default;

  absl::Status Run(const std::vector<Sink*>& sinks) override;
  void Stop() override;
  SweepProgress progress() const override {
    SweepProgress p;
    p.targets = progress_targets_;
    p.results = progress_results_.load(std::memory_order_relaxed);
    p.tls = progress_tls_.load(std::memory_order_relaxed);
    p.in_flight = progress_in_flight_.load(std::memory_order_relaxed);
    return p;
  }
  const SweepSummary& summary() const override { return summary_; }
  std::string resume_point() const override { return final_resume_point_; }
  std::vector<std::string> tls_endpoints() const override { return tls_endpoints_; }
  const std::vector<std::string>& warnings() const override { return plan_.warnings; }
  uint64_t num_targets() const override { return num_targets_; }

 private:
  struct Child {
    SweepImpl* sweep = nullptr;
    uint32_t worker = 0;
    pid_t pid = -1;
    uv_pipe_t pipe;
    FrameReader reader;
    bool reported = false;
    bool open = false;
  };

  // Deliver hands one analysed record to every sink.
  void Deliver(ScanRecord&& record);
  // OnResult turns a probe's result into a record.
  void OnResult(ProbeResult&& result, uint64_t position, uint32_t worker);
  // ResumePoint returns the point covering every record delivered.
  std::string ResumePoint() const;
  uint64_t ResumePosition(uint32_t worker) const;
  void Checkpoint();
  void Fail(absl::Status status, uint64_t position, uint32_t worker);
  void OnStopRequested();
  absl::Status RunLocal(uv_loop_t* loop);
  absl::Status StartWorkers(uv_loop_t* loop);
  void OnPipeData(Child* child, ssize_t nread, const uv_buf_t* buf);

  SweepPlan plan_;
  const uint64_t checkpoint_interval_ms_;
  const uint32_t checkpoint_records_;
  std::vector<std::unique_ptr<TargetWalker>> walkers_;
  uint64_t num_targets_ = 0;
  uint64_t remaining_at_start_ = 0;

  std::vector<Sink*> sinks_;
  std::unique_ptr<ChainAnalyzer> analyzer_;
  Engine* engine_ = nullptr;  // single-loop sweeps
  std::vector<std::unique_ptr<Child>> children_;
  std::vector<uint64_t> marks_;  // per worker: lowest position not finished
  std::vector<uint64_t> caps_;   // per worker: where a failed sink stopped us
  absl::Status error_;
  bool failed_ = false;
  uint64_t since_checkpoint_ = 0;
  uint64_t last_checkpoint_ms_ = 0;
  uv_loop_t* loop_ = nullptr;

  uv_async_t stop_async_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> running_{false};
  bool stopping_ = false;

  uint64_t progress_targets_ = 0;
  std::atomic<uint64_t> progress_results_{0};
  std::atomic<uint64_t> progress_tls_{0};
  std::atomic<uint64_t> progress_in_flight_{0};

  SweepSummary summary_;
  std::vector<std::string> tls_endpoints_;
  std::string final_resume_point_;
};

void SweepImpl::Stop() {
  stop_requested_.store(true);
  // uv_async_send is async-signal-safe; the handle lives while running_.
  if (running_.load()) uv_async_send(&stop_async_);
}

void SweepImpl::OnStopRequested() {
  if (stopping_) return;
  stopping_ = true;
  if (engine_ != nullptr) engine_->Stop();
  for (auto& c : children_) {
    if (c->pid > 0 && !c->reported) kill(c->pid, SIGTERM);
  }
}

uint64_t SweepImpl::ResumePosition(uint32_t worker) const {
  uint64_t mark = engine_ != nullptr ? engine_->ResumePosition() : marks_[worker];
  mark = std::min(mark, analyzer_ != nullptr ? analyzer_->MinPending(worker) : UINT64_MAX);
  mark = std::min(mark, caps_[worker]);
  return std::min(mark, walkers_[worker]->shard_size());
}

std::string SweepImpl::ResumePoint() const {
  std::vector<std::string> points;
  for (uint32_t w = 0; w < plan_.workers; ++w) {
    points.push_back(walkers_[w]->SavePosition(ResumePosition(w)));
  }
  return absl::StrJoin(points, "\n");
}

void SweepImpl::Fail(absl::Status status, uint64_t position, uint32_t worker) {
  if (failed_) return;
  failed_ = true;
  error_ = std::move(status);
  // Nothing from here on is recorded: a resume repeats it.
  for (uint32_t w = 0; w < plan_.workers; ++w) caps_[w] = ResumePosition(w);
  caps_[worker] = std::min(caps_[worker], position);
  if (analyzer_ != nullptr) analyzer_->DropWaiting();
  OnStopRequested();
}

void SweepImpl::Checkpoint() {
  if (failed_) return;
  since_checkpoint_ = 0;
  last_checkpoint_ms_ = uv_now(loop_);
  const std::string point = ResumePoint();
  for (Sink* sink : sinks_) {
    absl::Status s = sink->Checkpoint(point);
    if (!s.ok()) {
      Fail(std::move(s), UINT64_MAX, 0);
      return;
    }
  }
}

void SweepImpl::Deliver(ScanRecord&& record) {
  if (failed_) return;
  for (Sink* sink : sinks_) {
    absl::Status s = sink->Record(record);
    if (!s.ok()) {
      Fail(std::move(s), record.position, record.worker);
      return;
    }
  }
  progress_results_.fetch_add(1, std::memory_order_relaxed);
  if (record.result.outcome == Outcome::kTls) {
    progress_tls_.fetch_add(1, std::memory_order_relaxed);
    if (tls_endpoints_.size() < kListedEndpoints) {
      tls_endpoints_.push_back(EndpointLine(record));
    }
    if (record.chain != nullptr) {
      for (const FindingInfo& f : record.chain->findings) ++summary_.findings[f.id];
    }
  }
  if (++since_checkpoint_ >= checkpoint_records_) Checkpoint();
}

void SweepImpl::OnResult(ProbeResult&& result, uint64_t position, uint32_t worker) {
  if (failed_) return;
  ScanRecord record;
  record.result = std::move(result);
  record.position = position;
  record.worker = worker;
  analyzer_->Submit(std::move(record));
}

absl::Status SweepImpl::RunLocal(uv_loop_t* loop) {
  TargetWalker& walker = *walkers_[0];
  if (plan_.start_positions[0] > 0) {
    (void)walker.RestorePosition(walker.SavePosition(plan_.start_positions[0]));
  }
  absl::StatusOr<std::unique_ptr<ClientContext>> context = ClientContext::Create(plan_.probe);
  if (!context.ok()) return context.status();
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(
      loop, plan_.space.get(), &walker, context->get(), plan_.engine,
      [this](ProbeResult&& r, uint64_t position) {
        OnResult(std::move(r), position, 0);
        progress_in_flight_.store(engine_->in_flight(), std::memory_order_relaxed);
      });
  if (!engine.ok()) return engine.status();
  engine_ = engine->get();
  summary_.concurrency = engine_->concurrency();
  if (stop_requested_.load()) OnStopRequested();
  absl::Status run = engine_->Run();  // runs the loop until the walk is done
  // Records may still wait for their analysis.
  uv_run(loop, UV_RUN_DEFAULT);
  EngineStats stats = engine_->stats();
  AddStats(stats, &summary_);
  summary_.interrupted = engine_->stopped();
  marks_[0] = engine_->ResumePosition();
  engine_ = nullptr;
  engine->reset();
  return run;
}

void SweepImpl::OnPipeData(Child* c, ssize_t nread, const uv_buf_t* buf) {
  if (nread > 0) {
    c->reader.Append(buf->base, static_cast<size_t>(nread));
    FrameType type;
    absl::string_view payload;
    absl::Status error;
    while (c->reader.Next(&type, &payload, &error)) {
      if (type == FrameType::kRecord) {
        ProbeResult r;
        uint64_t position = 0, mark = 0;
        absl::Status s = DecodeRecord(payload, &r, &position, &mark);
        if (!s.ok()) {
          error = s;
          break;
        }
        marks_[c->worker] = mark;
        OnResult(std::move(r), position, c->worker);
      } else if (type == FrameType::kReport) {
        WorkerReport report;
        absl::Status s = DecodeReport(payload, &report);
        if (!s.ok()) {
          error = s;
          break;
        }
        c->reported = true;
        marks_[c->worker] = report.resume_position;
        AddStats(report.stats, &summary_);
        summary_.interrupted |= report.interrupted;
        summary_.concurrency += report.concurrency;
        if (!report.error.empty() && error_.ok()) {
          error_ = absl::InternalError(absl::StrCat("worker ", c->worker + 1, ": ", report.error));
        }
      }
    }
    if (!error.ok() && error_.ok()) {
      error_ = absl::InternalError(absl::StrCat("worker ", c->worker + 1, ": ", error.message()));
      OnStopRequested();
    }
  }
  delete[] buf->base;
  if (nread < 0 && c->open) {
    c->open = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&c->pipe), nullptr);
  }
}

absl::Status SweepImpl::StartWorkers(uv_loop_t* loop) {
  fflush(stdout);
  fflush(stderr);
  for (uint32_t w = 0; w < plan_.workers; ++w) {
    int fds[2];
    if (pipe(fds) != 0) return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
    pid_t pid = fork();
    if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
    if (pid == 0) {
      close(fds[0]);
      // The child keeps none of the parent's pipes (nor touches its loop).
      for (auto& c : children_) {
        uv_os_fd_t fd;
        if (uv_fileno(reinterpret_cast<uv_handle_t*>(&c->pipe), &fd) == 0) close(fd);
      }
      RunWorkerChild(plan_, w, fds[1]);
    }
    close(fds[1]);
    auto child = std::make_unique<Child>();
    child->sweep = this;
    child->worker = w;
    child->pid = pid;
    uv_pipe_init(loop, &child->pipe, 0);
    uv_pipe_open(&child->pipe, fds[0]);
    child->pipe.data = child.get();
    child->open = true;
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&child->pipe),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          constexpr size_t kChunk = 64 << 10;
          *buf = uv_buf_init(new char[kChunk], kChunk);
        },
        [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
          auto* c = static_cast<Child*>(s->data);
          c->sweep->OnPipeData(c, nread, buf);
        });
    children_.push_back(std::move(child));
  }
  return absl::OkStatus();
}

absl::Status SweepImpl::Run(const std::vector<Sink*>& sinks) {
  if (loop_ != nullptr) return absl::FailedPreconditionError("Sweep::Run may be called once");
  // A server that hangs up while a probe writes must not end the caller's
  // process. Probes send with MSG_NOSIGNAL; this covers libuv's queued
  // writes (and a sink writing to a closed pipe) on this thread.
  ScopedSigpipeBlock no_sigpipe;
  sinks_ = sinks;
  const uint64_t start_ns = uv_hrtime();
  uv_loop_t loop;
  if (int r = uv_loop_init(&loop); r != 0) {
    return absl::InternalError(absl::StrCat("uv_loop_init: ", uv_strerror(r)));
  }
  loop_ = &loop;
  summary_.workers = plan_.workers;
  summary_.file_limit = plan_.file_limit;
  absl::Status status;
  // Workers are forked before any thread of ours exists.
  if (plan_.workers > 1) status = StartWorkers(&loop);
  absl::StatusOr<std::unique_ptr<ChainAnalyzer>> analyzer = ChainAnalyzer::Create(
      &loop, plan_.analyse ? plan_.trust.get() : nullptr,
      plan_.analyse ? &plan_.policy : nullptr, plan_.analysis_threads,
      [this](ScanRecord&& r) { Deliver(std::move(r)); },
      Fetching{plan_.aia.get(), plan_.aia_complete, plan_.revocation_ocsp,
               plan_.revocation_crl, true});
  if (!analyzer.ok()) status.Update(analyzer.status());
  if (analyzer.ok()) analyzer_ = *std::move(analyzer);

  uv_async_init(&loop, &stop_async_, [](uv_async_t* h) {
    static_cast<SweepImpl*>(h->data)->OnStopRequested();
  });
  stop_async_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&stop_async_));
  running_.store(true);
  uv_timer_t timer;
  uv_timer_init(&loop, &timer);
  timer.data = this;
  uv_timer_start(
      &timer,
      [](uv_timer_t* t) {
        auto* self = static_cast<SweepImpl*>(t->data);
        if (self->since_checkpoint_ > 0) self->Checkpoint();
        // Probes waiting on silent servers deliver nothing: the count of
        // connections in flight is refreshed here too, for progress().
        if (self->engine_ != nullptr) {
          self->progress_in_flight_.store(self->engine_->in_flight(), std::memory_order_relaxed);
        }
      },
      checkpoint_interval_ms_, checkpoint_interval_ms_);
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer));

  if (status.ok()) {
    if (plan_.workers > 1) {
      if (stop_requested_.load()) OnStopRequested();
      uv_run(&loop, UV_RUN_DEFAULT);
    } else {
      status = RunLocal(&loop);
    }
  } else {
    OnStopRequested();
    uv_run(&loop, UV_RUN_DEFAULT);
  }
  for (auto& c : children_) {
    int wstatus = 0;
    waitpid(c->pid, &wstatus, 0);
    if (!c->reported && error_.ok()) {
      error_ = absl::InternalError(absl::StrCat(
          "worker ", c->worker + 1, " died before reporting; results written so far are "
          "complete; rerun the scan"));
    }
  }
  // The end: one last checkpoint covering everything delivered.
  if (!failed_) Checkpoint();
  summary_.interrupted |= failed_ || stopping_;
  uint64_t remaining = 0;
  bool all_done = true;
  for (uint32_t w = 0; w < plan_.workers; ++w) {
    const uint64_t at = ResumePosition(w);
    remaining += walkers_[w]->shard_size() - at;
    all_done &= at >= walkers_[w]->shard_size();
  }
  summary_.remaining = remaining;
  final_resume_point_ = all_done ? "" : ResumePoint();
  if (analyzer_ != nullptr) {
    summary_.chains_analysed = analyzer_->chains_analysed();
    summary_.certificates_parsed = analyzer_->certificates_parsed();
    if (plan_.aia != nullptr) {
      const IssuerFetchStats aia = plan_.aia->stats();
      summary_.aia_fetched = aia.fetched;
      summary_.aia_cache_hits = aia.cache_hits;
      summary_.aia_refused = aia.refused;
      summary_.aia_failed = aia.failed;
      summary_.ocsp_queries = aia.ocsp_queries;
      summary_.ocsp_failed = aia.ocsp_failed;
      summary_.crl_fetched = aia.crl_fetched;
      summary_.crl_cache_hits = aia.crl_cache_hits;
      summary_.crl_failed = aia.crl_failed;
    }
    analyzer_->Close();
  }
  running_.store(false);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  analyzer_.reset();
  summary_.elapsed_s = static_cast<double>(uv_hrtime() - start_ns) / 1e9;
  if (!status.ok()) return status;
  return error_;
}

class FunctionSink : public Sink {
 public:
  explicit FunctionSink(std::function<void(const ScanRecord&)> fn) : fn_(std::move(fn)) {}
  absl::Status Record(const ScanRecord& record) override {
    fn_(record);
    return absl::OkStatus();
  }

 private:
  std::function<void(const ScanRecord&)> fn_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Sweep>> Sweep::Create(const SweepOptions& options) {
  absl::StatusOr<SweepPlan> plan = BuildSweepPlan(options);
  if (!plan.ok()) return plan.status();
  return std::unique_ptr<Sweep>(new SweepImpl(*std::move(plan), options));
}

absl::Status Sweep::Run(std::function<void(const ScanRecord&)> fn) {
  FunctionSink sink(std::move(fn));
  return Run(std::vector<Sink*>{&sink});
}

}  // namespace ers
