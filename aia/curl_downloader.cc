#include "aia/curl_downloader.h"

#include <sys/socket.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/curl_handle.h"
#include "base/ip_address.h"

namespace ers {
namespace {

constexpr int kMaxRedirects = 3;

struct Transfer {
  std::string body;
  size_t max_bytes = 0;
  bool too_large = false;
  const std::function<bool(const IpAddress&)>* excluded = nullptr;
  std::string refused;  // the excluded address a connection was refused to
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->body.size() + len > t->max_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer
  }
  t->body.append(data, len);
  return len;
}

// OpenSocket runs before every connection libcurl makes (each address of
// each redirect): an excluded address gets no socket, so no packet.
curl_socket_t OpenSocket(void* user, curlsocktype, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  IpAddress ip;
  if (!FromSockaddr(&address->addr, &ip)) return CURL_SOCKET_BAD;
  if (*t->excluded && (*t->excluded)(ip)) {
    t->refused = ip.ToString();
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

class CurlIssuerDownloader : public IssuerDownloader {
 public:
  absl::StatusOr<std::string> Download(
      const std::string& url, size_t max_bytes, int64_t timeout_ms,
      const std::function<bool(const IpAddress&)>& excluded) override;
};

absl::StatusOr<std::string> CurlIssuerDownloader::Download(
    const std::string& url, size_t max_bytes, int64_t timeout_ms,
    const std::function<bool(const IpAddress&)>& excluded) {
  CurlHandle curl = NewCurlHandle();
  if (!curl) return absl::InternalError("cannot initialise libcurl");
  CURL* h = curl.get();
  Transfer t;
  t.max_bytes = max_bytes;
  t.excluded = &excluded;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(kMaxRedirects));
  // No proxy from the environment: the address checked is the one reached.
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_bytes));
  curl_easy_setopt(h, CURLOPT_USERAGENT, "ers (AIA issuer fetch)");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(h);
  if (!t.refused.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat(url, ": refused: it leads to ", t.refused, ", which is excluded"));
  }
  if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    return absl::ResourceExhaustedError(
        absl::StrCat(url, ": larger than ", max_bytes, " bytes"));
  }
  if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
    return absl::PermissionDeniedError(absl::StrCat(url, ": only http and https are fetched"));
  }
  if (rc != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat(url, ": ", error[0] != '\0' ? error : curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return absl::UnavailableError(absl::StrCat(url, ": HTTP ", status));
  return std::move(t.body);
}

}  // namespace

std::shared_ptr<IssuerDownloader> NewCurlIssuerDownloader() {
  return std::make_shared<CurlIssuerDownloader>();
}

}  // namespace ers
