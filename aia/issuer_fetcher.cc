#include "aia/issuer_fetcher.h"

#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/digest.h"
#include "base/encoding.h"
#include "base/files.h"
#include "base/private_files.h"

namespace ers {
namespace {

// A caIssuers body names a CA or two: more is not an issuer bundle.
constexpr size_t kMaxCertificates = 16;

struct FreeStack {
  void operator()(STACK_OF(X509)* s) const { sk_X509_pop_free(s, X509_free); }
};
using X509Stack = std::unique_ptr<STACK_OF(X509), FreeStack>;

absl::StatusOr<std::vector<std::string>> DerOf(STACK_OF(X509)* certs) {
  std::vector<std::string> out;
  for (size_t i = 0; i < sk_X509_num(certs) && i < kMaxCertificates; ++i) {
    uint8_t* der = nullptr;
    const int len = i2d_X509(sk_X509_value(certs, i), &der);
    if (len < 0) continue;
    out.emplace_back(reinterpret_cast<char*>(der), static_cast<size_t>(len));
    OPENSSL_free(der);
  }
  if (out.empty()) return absl::InvalidArgumentError("no certificate in the bundle");
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseIssuerCertificates(absl::string_view body) {
  if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(body), "-----BEGIN")) {
    bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(body.data(), body.size()));
    X509Stack certs(sk_X509_new_null());
    if (absl::StrContains(body, "-----BEGIN PKCS7-----")) {
      if (!PKCS7_get_PEM_certificates(certs.get(), bio.get())) {
        ERR_clear_error();
        return absl::InvalidArgumentError("a malformed PEM PKCS#7 bundle");
      }
      return DerOf(certs.get());
    }
    while (sk_X509_num(certs.get()) < kMaxCertificates) {
      bssl::UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
      if (!cert) break;
      sk_X509_push(certs.get(), cert.release());
    }
    ERR_clear_error();
    return DerOf(certs.get());
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(body.data());
  bssl::UniquePtr<X509> cert(d2i_X509(nullptr, &p, static_cast<long>(body.size())));
  if (cert && p == reinterpret_cast<const uint8_t*>(body.data()) + body.size()) {
    return std::vector<std::string>{std::string(body)};
  }
  ERR_clear_error();
  CBS cbs;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(body.data()), body.size());
  X509Stack certs(sk_X509_new_null());
  if (PKCS7_get_certificates(certs.get(), &cbs) && CBS_len(&cbs) == 0) {
    return DerOf(certs.get());
  }
  ERR_clear_error();
  return absl::InvalidArgumentError(
      "neither a DER certificate, a PKCS#7 bundle nor PEM certificates");
}

bool IssuerFetcher::Fetchable(const std::string& url) {
  return absl::StartsWithIgnoreCase(url, "http://") || absl::StartsWithIgnoreCase(url, "https://");
}

absl::StatusOr<std::string> IssuerFetcher::Get(const std::string& url, size_t max_bytes) {
  if (!Fetchable(url)) {
    return absl::PermissionDeniedError(absl::StrCat(url, ": only http and https are fetched"));
  }
  if (options_.downloader == nullptr) {
    return absl::UnavailableError(absl::StrCat(url, ": no downloader"));
  }
  return options_.downloader->Download(url, max_bytes, options_.timeout_ms, options_.excluded);
}

template <typename Memo, typename Value>
void IssuerFetcher::Memoize(Memo& memo, const std::string& key, Value value) {
  // The URLs come from certificates, which servers choose: the memo is
  // bounded, and starts afresh when full (the disk cache still answers).
  if (memo.size() >= kMaxMemoEntries) memo.clear();
  memo.emplace(key, std::move(value));
}

void IssuerFetcher::MemoizeCrl(const std::string& key, absl::StatusOr<std::string> crl) {
  const size_t bytes = crl.ok() ? crl->size() : 0;
  if (crl_memo_bytes_ + bytes > kMaxCrlMemoBytes) {
    crl_memo_.clear();
    crl_memo_bytes_ = 0;
  }
  crl_memo_bytes_ += bytes;
  Memoize(crl_memo_, key, std::move(crl));
}

template <typename Memo>
bool IssuerFetcher::Claim(const std::string& key, const Memo& memo) {
  struct Wait {
    const absl::flat_hash_set<std::string>* in_flight;
    const std::string* key;
  } wait{&in_flight_, &key};
  mu_.Await(absl::Condition(
      +[](Wait* w) { return !w->in_flight->contains(*w->key); }, &wait));
  if (memo.contains(key)) return false;
  in_flight_.insert(key);
  return true;
}

absl::StatusOr<std::unique_ptr<IssuerFetcher>> IssuerFetcher::Create(
    IssuerFetcherOptions options) {
  if (!options.cache_dir.empty() && mkdir(options.cache_dir.c_str(), 0700) != 0 &&
      errno != EEXIST) {
    return absl::InvalidArgumentError(absl::StrCat(
        "AIA cache ", options.cache_dir, ": cannot create it: ", strerror(errno)));
  }
  return std::unique_ptr<IssuerFetcher>(new IssuerFetcher(std::move(options)));
}

std::string IssuerFetcher::CachePath(const std::string& url) const {
  return absl::StrCat(options_.cache_dir, "/", Sha256Hex(url), ".issuer");
}

absl::StatusOr<std::vector<std::string>> IssuerFetcher::Fetch(const std::string& url,
                                                              bool network) {
  {
    absl::MutexLock lock(&mu_);
    // Without the network (the loop thread) never wait on a fetch.
    if (!network && in_flight_.contains(url)) {
      return absl::UnavailableError(absl::StrCat(url, ": being fetched"));
    }
    if (!Claim(url, memo_)) {
      ++stats_.cache_hits;
      return memo_.find(url)->second;
    }
  }
  auto remember = [&](absl::StatusOr<std::vector<std::string>> r, bool fetched) {
    absl::MutexLock lock(&mu_);
    if (fetched) ++stats_.fetched;
    if (!r.ok()) {
      (absl::IsPermissionDenied(r.status()) ? stats_.refused : stats_.failed) += 1;
    }
    Memoize(memo_, url, r);
    Release(url);
    return r;
  };
  if (!Fetchable(url)) return remember(Get(url, 0).status(), false);
  if (!options_.cache_dir.empty()) {
    struct stat st;
    const std::string path = CachePath(url);
    if (stat(path.c_str(), &st) == 0 && st.st_mtime + options_.cache_ttl_s > time(nullptr)) {
      absl::StatusOr<std::string> body = ReadSmallFile(path);
      if (body.ok()) {
        absl::StatusOr<std::vector<std::string>> certs = ParseIssuerCertificates(*body);
        if (certs.ok()) {
          absl::MutexLock lock(&mu_);
          ++stats_.cache_hits;
          Memoize(memo_, url, certs);
          Release(url);
          return certs;
        }
      }
    }
  }
  if (!network) {
    absl::MutexLock lock(&mu_);
    Release(url);
    return absl::UnavailableError(absl::StrCat(url, ": not fetched yet"));
  }
  if (options_.downloader == nullptr) return remember(Get(url, 0).status(), false);
  absl::StatusOr<std::string> body = Get(url, options_.max_bytes);
  if (!body.ok()) return remember(body.status(), true);
  absl::StatusOr<std::vector<std::string>> certs = ParseIssuerCertificates(*body);
  if (!certs.ok()) {
    return remember(absl::InvalidArgumentError(absl::StrCat(url, ": ", certs.status().message())),
                    true);
  }
  if (!options_.cache_dir.empty()) {
    // A cache that cannot be written costs a fetch next time, nothing more.
    (void)WritePrivateFileAtomically(CachePath(url), *body);
  }
  return remember(std::move(certs), true);
}

std::string OcspGetUrl(absl::string_view responder_url, absl::string_view request) {
  std::string url(responder_url);
  if (url.empty() || url.back() != '/') url.push_back('/');
  for (char c : Base64Encode(request)) {
    switch (c) {
      case '+':
        url += "%2B";
        break;
      case '/':
        url += "%2F";
        break;
      case '=':
        url += "%3D";
        break;
      default:
        url.push_back(c);
    }
  }
  return url;
}

absl::StatusOr<std::string> IssuerFetcher::FetchOcsp(const std::string& responder_url,
                                                     absl::string_view request) {
  const std::string url = OcspGetUrl(responder_url, request);
  {
    absl::MutexLock lock(&mu_);
    auto it = ocsp_memo_.find(url);
    if (it != ocsp_memo_.end()) return it->second;
  }
  absl::StatusOr<std::string> body =
      Fetchable(responder_url) ? Get(url, options_.max_bytes) : Get(responder_url, 0);
  absl::MutexLock lock(&mu_);
  ++stats_.ocsp_queries;
  if (!body.ok()) ++stats_.ocsp_failed;
  Memoize(ocsp_memo_, url, body);
  return body;
}

absl::StatusOr<std::string> IssuerFetcher::FetchCrl(const std::string& url) {
  {
    absl::MutexLock lock(&mu_);
    if (!Claim(url, crl_memo_)) {
      ++stats_.crl_cache_hits;
      return crl_memo_.find(url)->second;
    }
  }
  const std::string path = absl::StrCat(options_.cache_dir, "/", Sha256Hex(url), ".crl");
  constexpr int64_t kCrlTtl = 86400;
  struct stat st;
  if (!options_.cache_dir.empty() && stat(path.c_str(), &st) == 0 &&
      st.st_mtime + kCrlTtl > time(nullptr)) {
    absl::StatusOr<std::string> cached = ReadSmallFile(path);
    if (cached.ok()) {
      absl::MutexLock lock(&mu_);
      ++stats_.crl_cache_hits;
      MemoizeCrl(url, cached);
      Release(url);
      return cached;
    }
  }
  absl::StatusOr<std::string> body = Get(url, kMaxCrlBytes);
  if (body.ok() && absl::StartsWith(*body, "-----BEGIN")) {
    // PEM: the base64 between the armour lines.
    std::string b64;
    for (absl::string_view line : absl::StrSplit(*body, '\n')) {
      line = absl::StripAsciiWhitespace(line);
      if (!line.empty() && !absl::StartsWith(line, "-----")) b64.append(line.data(), line.size());
    }
    std::string der;
    if (Base64Decode(b64, &der)) {
      body = std::move(der);
    } else {
      body = absl::InvalidArgumentError(absl::StrCat(url, ": malformed PEM"));
    }
  }
  if (body.ok() && !options_.cache_dir.empty()) (void)WritePrivateFileAtomically(path, *body);
  absl::MutexLock lock(&mu_);
  ++stats_.crl_fetched;
  if (!body.ok()) ++stats_.crl_failed;
  MemoizeCrl(url, body);
  Release(url);
  return body;
}

IssuerFetchStats IssuerFetcher::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace ers
