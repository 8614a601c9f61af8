#include "cli/sweep.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <functional>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scanner/fd_limit.h"
#include "absl/container/flat_hash_map.h"
#include "scanner/result_json.h"
#include "x509/report_json.h"

namespace ers {
namespace {

// WorkerResult is what one event loop's sweep did.
struct WorkerResult {
  EngineStats stats;
  bool interrupted = false;
  std::string resume_point;
  uint64_t remaining = 0;
  uint32_t concurrency = 0;
  std::vector<std::string> tls_endpoints;
  std::map<std::string, uint64_t> findings;
  bool sink_failed = false;
};

std::string EndpointLine(const ProbeResult& r) {
  std::string host = r.address.family == IpFamily::kV6
                         ? absl::StrCat("[", r.address.ToString(), "]")
                         : r.address.ToString();
  return absl::StrFormat("%-22s %-8s %-40s chain of %d%s",
                         absl::StrCat(host, ":", r.port), r.version_name,
                         r.cipher, r.chain.size(),
                         r.sni.empty() ? "" : absl::StrCat(", SNI ", r.sni));
}

// SweepOneLoop sweeps |walker| on a fresh loop, handing each JSON line to
// |write_line| (which returns false when the line could not be written).
absl::StatusOr<WorkerResult> SweepOneLoop(
    const SweepRequest& request, TargetWalker& walker,
    EngineOptions engine_options,
    const std::function<bool(const std::string&)>& write_line) {
  const TargetSpace& space = *request.space;
  const ProbeOptions& probe = request.probe;
  absl::StatusOr<std::unique_ptr<ClientContext>> context =
      ClientContext::Create(probe);
  if (!context.ok()) return context.status();
  uv_loop_t loop;
  if (int r = uv_loop_init(&loop); r != 0) {
    return absl::InternalError(absl::StrCat("uv_loop_init: ", uv_strerror(r)));
  }
  WorkerResult result;
  // Identical chains (a load balancer's, a wildcard certificate's) are
  // analysed once: the analysis depends only on the chain, the name asked
  // for and the TLS version. Bounded; emptied when full.
  struct CachedAnalysis {
    nlohmann::ordered_json json;
    std::vector<std::string> finding_ids;
  };
  absl::flat_hash_map<std::string, CachedAnalysis> analysis_cache;
  constexpr size_t kAnalysisCacheEntries = 4096;
  bool write_failed = false;
  // The resume point when the sink first failed: that result's position was
  // still outstanding, so nothing from there on is skipped by a resume.
  uint64_t resume_cap = UINT64_MAX;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(
      &loop, &space, &walker, context->get(), std::move(engine_options),
      [&](const ProbeResult& r, uint64_t) {
        if (r.outcome == Outcome::kTls &&
            result.tls_endpoints.size() < kListedEndpoints) {
          result.tls_endpoints.push_back(EndpointLine(r));
        }
        std::string line;
        if (request.trust != nullptr && request.policy != nullptr &&
            r.outcome == Outcome::kTls) {
          std::string key = absl::StrCat(r.sni, "\n", r.version, "\n");
          for (const std::string& der : r.chain) {
            absl::StrAppend(&key, der.size(), ":", der);
          }
          auto it = analysis_cache.find(key);
          if (it == analysis_cache.end()) {
            EndpointFacts facts;
            facts.host = r.sni;  // the name the endpoint was asked for
            facts.tls_version = r.version;
            ChainReport report = AnalyzeChain(r.chain, facts, *request.trust,
                                              *request.policy, time(nullptr));
            CachedAnalysis entry{ReportToJson(report), {}};
            for (const Finding& f : report.findings) entry.finding_ids.push_back(f.id);
            if (analysis_cache.size() >= kAnalysisCacheEntries) analysis_cache.clear();
            it = analysis_cache.emplace(std::move(key), std::move(entry)).first;
          }
          for (const std::string& id : it->second.finding_ids) ++result.findings[id];
          line = ResultToJsonWithAnalysis(r, it->second.json);
        } else {
          line = ResultToJson(r);
        }
        line += '\n';
        if (!write_failed && !write_line(line)) {
          write_failed = true;
          resume_cap = (*engine)->ResumePosition();
          (*engine)->Stop();  // nothing more can be recorded
        }
      });
  if (!engine.ok()) {
    uv_loop_close(&loop);
    return engine.status();
  }
  result.concurrency = (*engine)->concurrency();
  // Ctrl-C, or a stop from cron's supervisor: finish what is in flight. The
  // handles are unreferenced so that they do not keep the loop alive.
  uv_signal_t signals[2];
  const int kSignals[2] = {SIGINT, SIGTERM};
  for (int i = 0; i < 2; ++i) {
    uv_signal_init(&loop, &signals[i]);
    signals[i].data = engine->get();
    uv_signal_start(
        &signals[i],
        [](uv_signal_t* handle, int) {
          static_cast<Engine*>(handle->data)->Stop();
        },
        kSignals[i]);
    uv_unref(reinterpret_cast<uv_handle_t*>(&signals[i]));
  }
  if (request.resume_provider != nullptr) {
    *request.resume_provider = [&walker, &engine, &resume_cap] {
      return walker.SavePosition(std::min((*engine)->ResumePosition(), resume_cap));
    };
  }
  absl::Status run = (*engine)->Run();
  if (request.resume_provider != nullptr) *request.resume_provider = nullptr;
  result.stats = (*engine)->stats();
  result.interrupted = (*engine)->stopped();
  const uint64_t resume_at = std::min((*engine)->ResumePosition(), resume_cap);
  result.sink_failed = write_failed;
  result.resume_point = walker.SavePosition(resume_at);
  result.remaining = walker.shard_size() - resume_at;
  for (uv_signal_t& s : signals) {
    uv_close(reinterpret_cast<uv_handle_t*>(&s), nullptr);
  }
  engine->reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (!run.ok()) return run;
  return result;
}

nlohmann::json ToJson(const WorkerResult& r) {
  nlohmann::json j;
  j["stats"] = {r.stats.targets_walked, r.stats.probes_started,
                r.stats.results,        r.stats.backpressure_events,
                r.stats.peak_in_flight, r.stats.names_resolved};
  j["by_outcome"] = r.stats.by_outcome;
  j["interrupted"] = r.interrupted;
  j["resume_point"] = r.resume_point;
  j["remaining"] = r.remaining;
  j["concurrency"] = r.concurrency;
  j["tls_endpoints"] = r.tls_endpoints;
  j["findings"] = r.findings;
  return j;
}

WorkerResult FromJson(const nlohmann::json& j) {
  WorkerResult r;
  auto s = j.at("stats");
  r.stats.targets_walked = s.at(0);
  r.stats.probes_started = s.at(1);
  r.stats.results = s.at(2);
  r.stats.backpressure_events = s.at(3);
  r.stats.peak_in_flight = s.at(4);
  r.stats.names_resolved = s.at(5);
  r.stats.by_outcome = j.at("by_outcome").get<std::array<uint64_t, 10>>();
  r.interrupted = j.at("interrupted");
  r.resume_point = j.at("resume_point");
  r.remaining = j.at("remaining");
  r.concurrency = j.at("concurrency");
  r.tls_endpoints = j.at("tls_endpoints").get<std::vector<std::string>>();
  r.findings = j.at("findings").get<std::map<std::string, uint64_t>>();
  return r;
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

// The parent's view of its workers, for its signal handler.
pid_t g_worker_pids[1024];
volatile sig_atomic_t g_num_workers = 0;

void ForwardStop(int) {
  // Ctrl-C reaches the workers through the terminal's process group; a
  // SIGTERM sent to the parent alone is forwarded.
  for (sig_atomic_t i = 0; i < g_num_workers; ++i) kill(g_worker_pids[i], SIGTERM);
}

void Merge(SweepSummary* summary, const WorkerResult& r) {
  EngineStats& s = summary->stats;
  s.targets_walked += r.stats.targets_walked;
  s.probes_started += r.stats.probes_started;
  s.results += r.stats.results;
  s.backpressure_events += r.stats.backpressure_events;
  s.peak_in_flight += r.stats.peak_in_flight;
  s.names_resolved += r.stats.names_resolved;
  for (size_t i = 0; i < s.by_outcome.size(); ++i) {
    s.by_outcome[i] += r.stats.by_outcome[i];
  }
  summary->interrupted |= r.interrupted;
  summary->sink_failed |= r.sink_failed;
  summary->resume_points.push_back(r.resume_point);
  summary->remaining += r.remaining;
  summary->concurrency += r.concurrency;
  for (const std::string& e : r.tls_endpoints) {
    if (summary->tls_endpoints.size() < kListedEndpoints) {
      summary->tls_endpoints.push_back(e);
    }
  }
  for (const auto& [id, n] : r.findings) summary->findings[id] += n;
}

// RunWorkers forks |workers| processes, one per sub-shard, and merges their
// lines into |out|.
absl::StatusOr<SweepSummary> RunWorkers(const SweepRequest& request,
                                        uint32_t workers, const LineSink& sink,
                                        SweepSummary summary) {
  struct Child {
    pid_t pid = -1;
    int data_fd = -1;
    int status_fd = -1;
    std::string partial;  // bytes of an unfinished line
    std::string status;
    bool data_open = true;
  };
  std::vector<Child> children(workers);
  fflush(stdout);
  fflush(stderr);
  const uint32_t per_worker_concurrency =
      (request.engine.concurrency + workers - 1) / workers;
  for (uint32_t w = 0; w < workers; ++w) {
    int data[2], status[2];
    if (pipe(data) != 0 || pipe(status) != 0) {
      return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
    }
    pid_t pid = fork();
    if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
    if (pid == 0) {
      close(data[0]);
      close(status[0]);
      for (uint32_t v = 0; v < w; ++v) {
        close(children[v].data_fd);
        close(children[v].status_fd);
      }
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      Shard sub{request.shard.index + request.shard.count * w,
                request.shard.count * workers};
      TargetWalker walker(request.space, request.seed, sub);
      nlohmann::json reply;
      absl::Status s;
      if (!request.resume_points.empty()) s = walker.RestorePosition(request.resume_points[w]);
      if (s.ok()) {
        EngineOptions eo = request.engine;
        eo.concurrency = per_worker_concurrency;
        absl::StatusOr<WorkerResult> r = SweepOneLoop(
            request, walker, eo,
            [fd = data[1]](const std::string& line) {
              return WriteAll(fd, line.data(), line.size());
            });
        if (r.ok()) {
          reply = ToJson(*r);
        } else {
          s = r.status();
        }
      }
      if (!s.ok()) {
        reply = {{"error", std::string(s.message())},
                 {"code", static_cast<int>(s.code())}};
      }
      std::string text = reply.dump();
      WriteAll(status[1], text.data(), text.size());
      _exit(0);
    }
    close(data[1]);
    close(status[1]);
    children[w].pid = pid;
    children[w].data_fd = data[0];
    children[w].status_fd = status[0];
    g_worker_pids[w] = pid;
  }
  g_num_workers = static_cast<sig_atomic_t>(workers);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = ForwardStop;
  struct sigaction old_int, old_term;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  // Merge whole lines from every worker until all have closed their pipes.
  bool write_failed = false;
  size_t open_count = workers;
  char buf[64 * 1024];
  while (open_count > 0) {
    std::vector<pollfd> fds;
    std::vector<Child*> owners;
    for (Child& c : children) {
      if (c.data_open) {
        fds.push_back({c.data_fd, POLLIN, 0});
        owners.push_back(&c);
      }
    }
    if (poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Child& c = *owners[i];
      ssize_t n = read(c.data_fd, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        c.data_open = false;
        --open_count;
        continue;
      }
      c.partial.append(buf, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t end; (end = c.partial.find('\n', start)) != std::string::npos;
           start = end + 1) {
        if (!write_failed && !sink(c.partial.substr(start, end + 1 - start))) {
          write_failed = true;
          ForwardStop(SIGTERM);
        }
      }
      c.partial.erase(0, start);
    }
  }
  std::string errors;
  for (uint32_t w = 0; w < workers; ++w) {
    Child& c = children[w];
    ssize_t n;
    while ((n = read(c.status_fd, buf, sizeof(buf))) > 0) {
      c.status.append(buf, static_cast<size_t>(n));
    }
    close(c.status_fd);
    close(c.data_fd);
    int wstatus = 0;
    waitpid(c.pid, &wstatus, 0);
    nlohmann::json reply = nlohmann::json::parse(c.status, nullptr, false);
    if (reply.is_discarded() || reply.contains("error") || !WIFEXITED(wstatus)) {
      absl::StrAppend(&errors, errors.empty() ? "" : "; ", "worker ", w + 1, ": ",
                      reply.is_object() && reply.contains("error")
                          ? reply["error"].get<std::string>()
                          : "died before reporting");
      continue;
    }
    Merge(&summary, FromJson(reply));
  }
  g_num_workers = 0;
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (!errors.empty()) {
    return absl::InternalError(absl::StrCat(
        "the scan failed: ", errors,
        ". Results written so far are complete lines; rerun the scan"));
  }
  if (write_failed) {
    return absl::DataLossError(
        "could not record results (disk full or closed pipe?); rerun with "
        "--resume");
  }
  return summary;
}

}  // namespace

absl::StatusOr<SweepSummary> RunSweep(const SweepRequest& request,
                                      const LineSink& sink) {
  SweepSummary summary;
  const uint64_t wanted = uint64_t{request.engine.concurrency != 0
                                       ? request.engine.concurrency
                                       : kDefaultConcurrency} +
                          kReservedFds;
  absl::StatusOr<uint64_t> limit = RaiseFileLimit(wanted);
  if (!limit.ok()) return limit.status();
  summary.file_limit = *limit;
  const uint64_t per_process =
      summary.file_limit > kReservedFds + 1 ? summary.file_limit - kReservedFds : 1;
  uint32_t workers = request.workers;
  if (!request.resume_points.empty()) {
    workers = static_cast<uint32_t>(request.resume_points.size());
  } else if (request.engine.concurrency > per_process) {
    workers = std::max<uint32_t>(
        workers, static_cast<uint32_t>((request.engine.concurrency +
                                        per_process - 1) / per_process));
  }
  workers = std::max<uint32_t>(workers, 1);
  if (workers > 1024) {
    return absl::InvalidArgumentError("at most 1024 worker processes");
  }
  summary.workers = workers;
  const uint64_t start_ns = uv_hrtime();
  if (workers > 1) {
    SweepRequest r = request;
    if (r.engine.concurrency == 0) r.engine.concurrency = kDefaultConcurrency * workers;
    absl::StatusOr<SweepSummary> merged = RunWorkers(r, workers, sink, summary);
    if (merged.ok()) merged->elapsed_s = (uv_hrtime() - start_ns) / 1e9;
    return merged;
  }
  TargetWalker walker(request.space, request.seed, request.shard);
  if (!request.resume_points.empty()) {
    if (absl::Status s = walker.RestorePosition(request.resume_points[0]); !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<WorkerResult> result =
      SweepOneLoop(request, walker, request.engine, sink);
  if (!result.ok()) return result.status();
  Merge(&summary, *result);
  summary.elapsed_s = (uv_hrtime() - start_ns) / 1e9;
  return summary;
}

std::string FormatSummary(const SweepSummary& s) {
  std::string out = absl::StrFormat(
      "%s: %d targets, %d results in %.1f s (%.0f results/s; %d worker%s, "
      "concurrency %d, open-file limit %d)\n",
      s.interrupted ? "interrupted" : "done", s.stats.targets_walked,
      s.stats.results, s.elapsed_s,
      s.elapsed_s > 0 ? s.stats.results / s.elapsed_s : 0.0, s.workers,
      s.workers == 1 ? "" : "s", s.concurrency, s.file_limit);
  static constexpr Outcome kOrder[] = {
      Outcome::kTls,      Outcome::kRefused, Outcome::kTimeout,
      Outcome::kReset,    Outcome::kNotTls,  Outcome::kTlsAlert,
      Outcome::kError,    Outcome::kUnresolved, Outcome::kExcluded};
  for (Outcome o : kOrder) {
    uint64_t n = s.stats.by_outcome[static_cast<size_t>(o)];
    if (n > 0) absl::StrAppend(&out, "  ", OutcomeName(o), ": ", n, "\n");
  }
  if (!s.tls_endpoints.empty()) {
    absl::StrAppend(&out, "TLS endpoints",
                    s.stats.by_outcome[0] > kListedEndpoints ? " (first 20)" : "",
                    ":\n");
    for (const std::string& line : s.tls_endpoints) {
      absl::StrAppend(&out, "  ", line, "\n");
    }
  }
  if (!s.findings.empty()) {
    absl::StrAppend(&out, "findings (endpoints):\n");
    for (const auto& [id, n] : s.findings) {
      absl::StrAppend(&out, absl::StrFormat("  %-24s %d\n", id, n));
    }
  }
  if (s.stats.backpressure_events > 0) {
    absl::StrAppend(&out, "  back-pressure events (EMFILE/ENOBUFS): ",
                    s.stats.backpressure_events, "\n");
  }
  return out;
}

}  // namespace ers
