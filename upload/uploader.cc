#include "base/curl_handle.h"
#include "base/json_fields.h"
#include "base/printable.h"
#include "upload/uploader.h"

#include <curl/curl.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <random>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace ers {
namespace {

// Replies larger than this are cut off: the CLM's acknowledgement is small.
constexpr size_t kMaxReply = 1 << 20;

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t len = size * n;
  if (body->size() + len > kMaxReply) return 0;  // aborts the transfer
  body->append(data, len);
  return len;
}

// ParseRetryAfter reads delay-seconds or an HTTP-date.
double ParseRetryAfter(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  double seconds = 0;
  if (absl::SimpleAtod(value, &seconds) && seconds >= 0) return seconds;
  absl::Time t;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value), &t, &err)) {
    return std::max(0.0, absl::ToDoubleSeconds(t - absl::Now()));
  }
  return -1;
}

PostResult Request(const Credentials& c, const std::string& path, const std::string* body,
                   const std::string& idempotency_key, const PushOptions& options) {
  PostResult r;
  CurlHandle curl = NewCurlHandle();
  if (!curl) {
    r.message = "cannot initialise libcurl";
    return r;
  }
  const std::string url = c.url + path;
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  // Only HTTP(S), also on redirects: this libcurl could speak much more.
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, options.connect_timeout_ms);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, options.timeout_ms);
  const std::string interface = "host!" + options.source_address;
  if (!options.source_address.empty()) curl_easy_setopt(h, CURLOPT_INTERFACE, interface.c_str());
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!c.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, c.ca_file.c_str());
  if (!c.client_cert.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, c.client_cert.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, c.client_key.c_str());
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& line) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  };
  add_header("Content-Type: application/json");
  add_header("Accept: application/json");
  if (!c.token.empty()) add_header("Authorization: Bearer " + c.token);
  if (!idempotency_key.empty()) add_header("Idempotency-Key: " + idempotency_key);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (body != nullptr) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    r.result = PushClass::kRetry;
    const bool tls_problem = rc == CURLE_PEER_FAILED_VERIFICATION ||
                             rc == CURLE_SSL_CACERT_BADFILE ||
                             rc == CURLE_SSL_CERTPROBLEM;
    if (tls_problem) r.result = PushClass::kFixNeeded;
    r.message = absl::StrCat(url, ": ", error[0] != '\0' ? error : curl_easy_strerror(rc),
                             tls_problem ? " (check --ca-file / the client certificate)" : "");
    return r;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_header* retry = nullptr;
  const bool has_retry =
      curl_easy_header(h, "Retry-After", 0, CURLH_HEADER, -1, &retry) == CURLHE_OK;
  std::string body_copy = std::move(r.body);
  return ClassifyReply(url, status, body_copy, has_retry ? retry->value : nullptr);
}

}  // namespace

PostResult ClassifyReply(const std::string& url, long status, const std::string& body,
                         const char* retry_after) {
  PostResult r;
  r.http_status = status;
  r.body = body;
  if (retry_after != nullptr) r.retry_after_s = ParseRetryAfter(retry_after);
  std::string server_error;
  nlohmann::json reply = nlohmann::json::parse(body, nullptr, false);
  if (reply.is_object() && reply.contains("error") && reply["error"].is_string()) {
    // The CLM's text, bounded: a hostile server cannot flood the terminal.
    server_error = reply["error"].get<std::string>().substr(0, 300);
  }
  if (status >= 200 && status < 300) {
    r.result = PushClass::kAcknowledged;
  } else if (status == 408 || status == 429 || status >= 500) {
    r.result = PushClass::kRetry;
  } else {
    r.result = PushClass::kFixNeeded;
  }
  if (r.result != PushClass::kAcknowledged) {
    r.message = absl::StrCat(url, ": HTTP ", status,
                             server_error.empty() ? "" : absl::StrCat(" (", server_error, ")"),
                             status == 401 || status == 403
                                 ? "; check the credentials (ers login)"
                                 : "");
  }
  return r;
}

PostResult PostJson(const Credentials& c, const std::string& path, const std::string& body,
                    const std::string& idempotency_key, const PushOptions& options) {
  return Request(c, path, &body, idempotency_key, options);
}

PostResult GetJson(const Credentials& c, const std::string& path,
                   const PushOptions& options) {
  return Request(c, path, nullptr, "", options);
}

Acknowledgement ReadAcknowledgement(const std::string& body, const std::string& batch_id) {
  Acknowledgement ack;
  const nlohmann::json reply = nlohmann::json::parse(body, nullptr, false);
  const std::string acked = JsonString(reply, "batch_id");
  if (!batch_id.empty() && acked == batch_id) {
    ack.delivered = true;
    ack.duplicate = JsonBool(reply, "duplicate");
    return ack;
  }
  ack.message = reply.is_object()
                    ? absl::StrCat("the CLM's reply acknowledges batch \"",
                                   Printable(acked.substr(0, 64)), "\", not \"",
                                   Printable(batch_id.substr(0, 64)),
                                   "\"; the batch stays spooled")
                    : "the CLM's 2xx reply is not a JSON object naming the batch; the batch "
                      "stays spooled";
  return ack;
}

bool IsBatchRejection(long http_status) {
  switch (http_status) {
    case 400:  // malformed
    case 409:  // conflicts with what the CLM holds
    case 413:  // too large
    case 415:  // wrong type
    case 422:  // well-formed, refused by policy
      return true;
    default:
      return false;
  }
}

PushReport PushSpool(const Credentials& c, Spool& spool, const PushOptions& options) {
  PushReport report;
  absl::StatusOr<std::vector<std::string>> files = spool.Pending();
  if (!files.ok()) {
    report.error = std::string(files.status().message());
    report.fix_needed = true;
    return report;
  }
  if (options.max_attempts <= 0) {  // spool only
    report.remaining = static_cast<int>(files->size());
    return report;
  }
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  for (size_t i = 0; i < files->size(); ++i) {
    const std::string& file = (*files)[i];
    absl::StatusOr<std::string> body = spool.Read(file);
    if (!body.ok()) continue;  // removed meanwhile by another push
    nlohmann::json batch = nlohmann::json::parse(*body, nullptr, false);
    const std::string id = JsonString(batch, "batch_id");
    bool acknowledged = false;
    bool rejected = false;
    const absl::Time first_attempt = absl::Now();
    for (int attempt = 1; attempt <= options.max_attempts; ++attempt) {
      const absl::Duration left = options.deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        report.error = "the push ran out of its time; the batches stay spooled";
        break;
      }
      PushOptions bounded = options;
      bounded.timeout_ms = std::max<long>(
          1, std::min<long>(options.timeout_ms,
                            static_cast<long>(absl::ToInt64Milliseconds(left))));
      bounded.connect_timeout_ms = std::min(options.connect_timeout_ms, bounded.timeout_ms);
      PostResult r = PostJson(c, "/api/v1/batches", *body, id, bounded);
      if (r.result == PushClass::kAcknowledged) {
        const Acknowledgement ack = ReadAcknowledgement(r.body, id);
        if (ack.delivered) {
          if (ack.duplicate) ++report.duplicates;
          acknowledged = true;
          if (options.on_delivered) {
            options.on_delivered(id, attempt, absl::Now() - first_attempt);
          }
          break;
        }
        // A 2xx that names another batch (or none) acknowledges nothing:
        // the batch stays, and the retry is harmless (same batch id).
        r.result = PushClass::kRetry;
        r.message = ack.message;
      }
      report.error = r.message;
      if (r.result == PushClass::kFixNeeded && IsBatchRejection(r.http_status)) {
        // This batch, not the client, is the problem: set it aside with the
        // CLM's reason and go on with the others.
        if (absl::Status s = spool.Reject(file, r.message); !s.ok()) {
          report.error = std::string(s.message());
          report.fix_needed = true;
        } else {
          rejected = true;
        }
        break;
      }
      if (r.result == PushClass::kFixNeeded) {
        report.fix_needed = true;
        break;
      }
      if (attempt == options.max_attempts) break;
      // Exponential backoff with jitter; the server's Retry-After wins when
      // longer (capped, so a hostile value cannot stall cron forever).
      double delay = std::min(options.retry_max_s,
                              options.retry_base_s * std::pow(2.0, attempt - 1)) *
                     jitter(rng);
      if (r.retry_after_s >= 0) {
        delay = std::max(delay, std::min(r.retry_after_s, options.retry_max_s));
      }
      delay = std::min(delay, std::max(0.0, absl::ToDoubleSeconds(options.deadline - absl::Now())));
      timespec ts{static_cast<time_t>(delay),
                  static_cast<long>((delay - static_cast<time_t>(delay)) * 1e9)};
      nanosleep(&ts, nullptr);
    }
    if (rejected) {
      ++report.rejected;
      continue;
    }
    if (!acknowledged) {
      report.remaining = static_cast<int>(files->size() - i);
      return report;
    }
    if (absl::Status s = spool.Remove(file); !s.ok()) {
      report.error = std::string(s.message());
    }
    ++report.sent;
  }
  if (report.rejected == 0) report.error.clear();
  return report;
}

}  // namespace ers
