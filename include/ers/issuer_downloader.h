// issuer_downloader.h: how a sweep fetches the issuer certificates that
// Authority Information Access caIssuers URLs name, when it completes
// chains (SweepOptions::aia). The library does no HTTP itself, so that it
// links no HTTP client: the ers program hands it one built on libcurl
// (aia/curl_downloader.h), an embedder may hand its own.
#ifndef ERS_ISSUER_DOWNLOADER_H_
#define ERS_ISSUER_DOWNLOADER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "ers/ip_address.h"

namespace ers {

class IssuerDownloader {
 public:
  virtual ~IssuerDownloader() = default;

  // Download returns the body at |url| (http or https), at most |max_bytes|
  // long, within |timeout_ms|. Before every connection it makes (each
  // address, each redirect) it must ask |excluded| and refuse an excluded
  // address without sending anything: kPermissionDenied naming it. Other
  // failures: kResourceExhausted for a body too large, kUnavailable for the
  // rest, each message naming the URL. Called from analysis threads, never
  // from an event loop; must be thread-safe.
  virtual absl::StatusOr<std::string> Download(
      const std::string& url, size_t max_bytes, int64_t timeout_ms,
      const std::function<bool(const IpAddress&)>& excluded) = 0;
};

}  // namespace ers

#endif  // ERS_ISSUER_DOWNLOADER_H_
