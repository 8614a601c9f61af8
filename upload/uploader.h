// uploader.h: sends spooled batches to the CLM over HTTP(S) with libcurl
// (the GnuTLS build, restricted to http and https), as an authenticated
// client. Each reply is classified: 2xx acknowledged (the batch is removed
// from the spool); 4xx other than 408 and 429 needs fixing (bad credentials,
// a rejected batch: not retried, and a rejected batch is set aside);
// 408, 429, 5xx and transport errors are
// retried with exponential backoff and jitter, honouring Retry-After. TLS is
// always verified: against the system store or the configured CA file.
#ifndef ERS_UPLOAD_UPLOADER_H_
#define ERS_UPLOAD_UPLOADER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "upload/credentials.h"
#include "upload/spool.h"

namespace ers {

struct PushOptions {
  int max_attempts = 5;           // per batch, per push
  double retry_base_s = 1.0;      // first backoff; doubles each retry
  double retry_max_s = 60.0;      // backoff ceiling (also caps Retry-After)
  long connect_timeout_ms = 10000;
  long timeout_ms = 60000;        // a whole request, reply included
  // deadline bounds a whole PushSpool: no attempt starts after it, a
  // request's timeout and a backoff end at it, and what is left stays
  // spooled (kRetry). InfiniteFuture: bounded by the attempts alone.
  absl::Time deadline = absl::InfiniteFuture();
  // source_address, when set, is the local address the requests leave from
  // (a multi-homed scanner; the load benchmark's many clients on loopback).
  std::string source_address;
  // on_delivered, when set, is called for each batch the CLM acknowledged,
  // with the attempts it took and the time from its first attempt to the
  // acknowledgement (progress for embedders, latency for benchmarks).
  std::function<void(const std::string& batch_id, int attempts, absl::Duration elapsed)>
      on_delivered;
};

enum class PushClass { kAcknowledged, kFixNeeded, kRetry };

struct PostResult {
  PushClass result = PushClass::kRetry;
  long http_status = 0;       // 0 when no reply arrived
  double retry_after_s = -1;  // from Retry-After, when given
  std::string message;        // for people; never contains the credential
  std::string body;
};

// ClassifyReply classifies an HTTP reply from the CLM: |status|, |body| (the
// CLM's JSON, possibly with an "error") and the Retry-After header value
// (null if absent). |url| is only used in the message.
PostResult ClassifyReply(const std::string& url, long status, const std::string& body,
                         const char* retry_after);

// PostJson sends |body| to |path| (e.g. "/api/v1/batches") of the CLM with
// |idempotency_key| (if not empty) and classifies the reply.
PostResult PostJson(const Credentials& c, const std::string& path,
                    const std::string& body, const std::string& idempotency_key,
                    const PushOptions& options);

// GetJson fetches |path| (credentials checked like a push).
PostResult GetJson(const Credentials& c, const std::string& path,
                   const PushOptions& options);

struct PushReport {
  int sent = 0;        // acknowledged and removed from the spool
  int duplicates = 0;  // of which the CLM had already stored
  int rejected = 0;    // refused for good by the CLM, moved aside (Spool::Reject)
  int remaining = 0;   // still spooled
  bool fix_needed = false;
  std::string error;   // the last failure, for people
};

// Acknowledgement is what a 2xx reply to a batch upload says.
struct Acknowledgement {
  bool delivered = false;  // the reply names |batch_id|
  bool duplicate = false;  // the CLM had stored it before
  std::string message;     // why it is no delivery, for people (bounded)
};
// ReadAcknowledgement reads the JSON |body| of a 2xx reply to the upload of
// batch |batch_id|. A reply that is not JSON, names no batch or another
// one, is no delivery; "duplicate" counts only as a JSON true.
Acknowledgement ReadAcknowledgement(const std::string& body, const std::string& batch_id);

// IsBatchRejection reports whether an HTTP status refuses the batch itself
// (400, 409, 413, 415, 422), as opposed to the client (401, 403) or the
// moment (408, 429, 5xx).
bool IsBatchRejection(long http_status);

// PushSpool sends every spooled batch, oldest first. A batch counts as
// delivered only when a 2xx reply names its batch id. A batch the CLM
// refuses for good is moved aside (Spool::Reject) and the others go on;
// pushing stops at the first batch that needs the client fixed, or that
// still fails after the retries.
PushReport PushSpool(const Credentials& c, Spool& spool, const PushOptions& options);

}  // namespace ers

#endif  // ERS_UPLOAD_UPLOADER_H_
