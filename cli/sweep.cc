#include "cli/sweep.h"

#include <signal.h>
#include <uv.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scanner/fd_limit.h"
#include "scanner/result_json.h"

namespace ers {

absl::StatusOr<SweepSummary> RunSweep(const TargetSpace& space,
                                      TargetWalker& walker,
                                      const ProbeOptions& probe_options,
                                      EngineOptions engine_options, FILE* out) {
  SweepSummary summary;
  const uint64_t wanted_fds =
      uint64_t{engine_options.concurrency != 0 ? engine_options.concurrency
                                               : kDefaultConcurrency} +
      kReservedFds;
  absl::StatusOr<uint64_t> limit = RaiseFileLimit(wanted_fds);
  if (!limit.ok()) return limit.status();
  summary.file_limit = *limit;

  absl::StatusOr<std::unique_ptr<ClientContext>> context =
      ClientContext::Create(probe_options);
  if (!context.ok()) return context.status();

  uv_loop_t loop;
  if (int r = uv_loop_init(&loop); r != 0) {
    return absl::InternalError(absl::StrCat("uv_loop_init: ", uv_strerror(r)));
  }
  bool write_failed = false;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(
      &loop, &space, &walker, context->get(), std::move(engine_options),
      [&](const ProbeResult& r) {
        if (r.outcome == Outcome::kTls &&
            summary.tls_endpoints.size() < kListedEndpoints) {
          std::string host = r.address.family == IpFamily::kV6
                                 ? absl::StrCat("[", r.address.ToString(), "]")
                                 : r.address.ToString();
          summary.tls_endpoints.push_back(absl::StrFormat(
              "%-22s %-8s %-40s chain of %d%s", absl::StrCat(host, ":", r.port),
              r.version_name, r.cipher, r.chain.size(),
              r.sni.empty() ? "" : absl::StrCat(", SNI ", r.sni)));
        }
        std::string line = ResultToJson(r);
        line += '\n';
        if (!write_failed &&
            fwrite(line.data(), 1, line.size(), out) != line.size()) {
          write_failed = true;
        }
      });
  if (!engine.ok()) {
    uv_loop_close(&loop);
    return engine.status();
  }
  summary.concurrency = (*engine)->concurrency();

  // Ctrl-C or a stop from cron's supervisor: finish what is in flight and
  // report the resume point. The handles are unreferenced so they do not
  // keep the loop alive.
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
  const uint64_t start_ns = uv_hrtime();
  absl::Status run = (*engine)->Run();
  summary.elapsed_s = static_cast<double>(uv_hrtime() - start_ns) / 1e9;
  summary.stats = (*engine)->stats();
  summary.interrupted = (*engine)->stopped();
  summary.resume_position = (*engine)->ResumePosition();
  for (uv_signal_t& s : signals) {
    uv_close(reinterpret_cast<uv_handle_t*>(&s), nullptr);
  }
  engine->reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  if (!run.ok()) return run;
  if (fflush(out) != 0) write_failed = true;
  if (write_failed) {
    return absl::DataLossError(
        "could not write results (disk full?); rerun with --resume");
  }
  return summary;
}

std::string FormatSummary(const SweepSummary& s) {
  std::string out = absl::StrFormat(
      "%s: %d targets, %d results in %.1f s (%.0f results/s; concurrency "
      "%d, file limit %d)\n",
      s.interrupted ? "interrupted" : "done", s.stats.targets_walked,
      s.stats.results, s.elapsed_s,
      s.elapsed_s > 0 ? s.stats.results / s.elapsed_s : 0.0, s.concurrency,
      s.file_limit);
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
  if (s.stats.backpressure_events > 0) {
    absl::StrAppend(&out, "  back-pressure events (EMFILE/ENOBUFS): ",
                    s.stats.backpressure_events, "\n");
  }
  return out;
}

}  // namespace ers
