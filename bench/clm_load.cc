// clm_load: the CLM's load benchmark client. Every line NAME TOKEN of the
// tokens file is one client (a thread with its own spool and its own
// loopback source address 127.0.1.N, as scanners on separate machines
// would be); each spools --batches batches of --sightings sightings and
// pushes them through the uploader that `ers push` uses (PushSpool, with
// its retries and acknowledgement checks). It prints what was delivered,
// batches and sightings per second, and the latency of a batch from its
// first attempt to its acknowledgement (retries across a server restart
// included). bench/clm_load.sh runs it against ers-clm and kills the
// server in the middle.
//
// Usage: clm_load --url URL --ca FILE --tokens FILE --work DIR
//                 [--batches 20] [--sightings 500]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/digest.h"
#include "base/encoding.h"
#include "base/flags.h"
#include "upload/batches.h"
#include "upload/spool.h"
#include "upload/uploader.h"

namespace {

struct Client {
  std::string name;
  std::string token;
};

// kCertificateBytes is the size of a typical ECDSA leaf. The server hashes
// and stores the DER without parsing it, so random bytes load it as real
// certificates would.
constexpr size_t kCertificateBytes = 1100;

// BatchBody returns batch |b| of |client|: |sightings| sightings, each of
// its own certificate, at addresses and ports no other batch uses.
std::string BatchBody(const std::string& id, int client, int b, int sightings,
                      std::mt19937_64& rng) {
  nlohmann::json certificates = nlohmann::json::array();
  nlohmann::json seen = nlohmann::json::array();
  std::string der(kCertificateBytes, '\0');
  for (int i = 0; i < sightings; ++i) {
    for (char& c : der) c = static_cast<char>(rng());
    const std::string sha256 = ers::Sha256Hex(der);
    certificates.push_back({{"sha256", sha256}, {"der", ers::Base64Encode(der)}});
    // Documentation addresses (RFC 5737): data only, nothing is sent there.
    seen.push_back({{"sha256", sha256},
                    {"ip", absl::StrCat("198.51.100.", client % 250)},
                    {"port", 1 + (b * sightings + i) % 65535},
                    {"name", absl::StrCat("host", i, ".client", client, ".example")},
                    {"tls_version", "TLSv1.3"},
                    {"findings", nlohmann::json::array({{{"id", "expires_soon"},
                                                         {"severity", "warning"}}})}});
  }
  return nlohmann::json{{"batch_id", id},
                        {"client", {{"software", "clm_load"}}},
                        {"certificates", std::move(certificates)},
                        {"sightings", std::move(seen)}}
      .dump();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

int Fail(const std::string& message) {
  fprintf(stderr, "clm_load: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<std::string> url, ca, tokens_file, work, batches_flag, sightings_flag;
  ers::FlagSet flags("clm_load");
  flags.String("url", "URL", "the CLM", &url);
  flags.String("ca", "FILE", "the CA of the CLM's certificate", &ca);
  flags.String("tokens", "FILE", "NAME TOKEN per line: one client each", &tokens_file);
  flags.String("work", "DIR", "where the clients' spools go", &work);
  flags.String("batches", "N", "batches per client (default 20)", &batches_flag);
  flags.String("sightings", "N", "sightings per batch (default 500)", &sightings_flag);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (absl::Status s = flags.Parse(args, nullptr); !s.ok()) return Fail(std::string(s.message()));
  if (!url || !ca || !tokens_file || !work) return Fail("--url, --ca, --tokens and --work are required");
  int batches = 20, sightings = 500;
  if ((batches_flag && !absl::SimpleAtoi(*batches_flag, &batches)) ||
      (sightings_flag && !absl::SimpleAtoi(*sightings_flag, &sightings)) || batches < 1 ||
      sightings < 1 || sightings > 10000) {
    return Fail("--batches and --sightings take positive numbers (sightings at most 10000)");
  }
  std::vector<Client> clients;
  std::ifstream in(*tokens_file);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() >= 2) clients.push_back({f[0], f[1]});
  }
  if (clients.empty() || clients.size() > 250) return Fail("the tokens file names 1 to 250 clients");

  // Spool everything first: the clock measures pushing only.
  for (size_t c = 0; c < clients.size(); ++c) {
    ers::Spool spool(absl::StrCat(*work, "/", clients[c].name));
    std::mt19937_64 rng(c);
    for (int b = 0; b < batches; ++b) {
      const std::string id = ers::NewBatchId();
      if (absl::Status s = spool.Add(id, BatchBody(id, c, b, sightings, rng)); !s.ok()) {
        return Fail(std::string(s.message()));
      }
    }
  }

  absl::Mutex mu;
  std::vector<double> latency_ms;
  int delivered = 0, duplicates = 0, retried = 0, remaining = 0;
  std::string last_error;
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (size_t c = 0; c < clients.size(); ++c) {
    threads.emplace_back([&, c] {
      ers::Credentials cred;
      cred.url = *url;
      cred.token = clients[c].token;
      cred.ca_file = *ca;
      ers::PushOptions o;
      o.source_address = absl::StrCat("127.0.1.", c + 1);
      // Patient enough to outlast a server restart.
      o.max_attempts = 40;
      o.retry_base_s = 0.1;
      o.retry_max_s = 1.0;
      o.on_delivered = [&](const std::string&, int attempts, absl::Duration elapsed) {
        absl::MutexLock lock(&mu);
        latency_ms.push_back(absl::ToDoubleMilliseconds(elapsed));
        if (attempts > 1) ++retried;
      };
      while (!go.load()) std::this_thread::yield();
      ers::Spool spool(absl::StrCat(*work, "/", clients[c].name));
      const ers::PushReport r = ers::PushSpool(cred, spool, o);
      absl::MutexLock lock(&mu);
      delivered += r.sent;
      duplicates += r.duplicates;
      remaining += r.remaining + r.rejected;
      if (!r.error.empty()) last_error = r.error;
    });
  }
  const absl::Time start = absl::Now();
  go = true;
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);

  const int expected = static_cast<int>(clients.size()) * batches;
  printf("clients: %zu\nbatches: %d\nsightings_per_batch: %d\n", clients.size(), expected,
         sightings);
  printf("delivered: %d\nduplicates: %d\nretried: %d\nundelivered: %d\n", delivered,
         duplicates, retried, remaining);
  printf("seconds: %.1f\nbatches_per_second: %.1f\nsightings_per_second: %.0f\n", seconds,
         delivered / seconds, delivered * static_cast<double>(sightings) / seconds);
  printf("latency_p50_ms: %.0f\nlatency_p99_ms: %.0f\nlatency_max_ms: %.0f\n",
         Percentile(latency_ms, 0.50), Percentile(latency_ms, 0.99),
         Percentile(latency_ms, 1.0));
  if (delivered != expected) {
    fprintf(stderr, "clm_load: %d of %d batches undelivered (last error: %s)\n",
            expected - delivered, expected, last_error.c_str());
    return 1;
  }
  return 0;
}
