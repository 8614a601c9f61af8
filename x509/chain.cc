#include "x509/chain.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace ers {
namespace {

// IssuedBy reports whether |parent| is |child|'s issuer by name and, where
// both carry them, key identifiers.
bool IssuedBy(const Certificate& child, const Certificate& parent) {
  if (child.issuer_der != parent.subject_der) return false;
  return child.authority_key_id.empty() || parent.subject_key_id.empty() ||
         child.authority_key_id == parent.subject_key_id;
}

const char* ReasonFor(int error) {
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "not_yet_valid";
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return "unknown_issuer";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return "self_signed";
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return "untrusted_root";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
      return "bad_signature";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return "name_mismatch";
    case X509_V_ERR_INVALID_PURPOSE:
      return "wrong_eku";
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
      return "invalid_ca";
    default:
      return nullptr;
  }
}

int VerifyRunIndex() {
  static const int index =
      X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

struct VerifyRun {
  std::vector<std::string> reasons;
  std::vector<std::string> path;
  bool unknown_issuer = false;
};

// CollectErrors records every verification error and lets verification go
// on, so that one run reports all that is wrong, not only the first.
int CollectErrors(int ok, X509_STORE_CTX* ctx) {
  if (ok) return 1;
  auto* run = static_cast<VerifyRun*>(
      X509_STORE_CTX_get_ex_data(ctx, VerifyRunIndex()));
  int error = X509_STORE_CTX_get_error(ctx);
  const char* reason = ReasonFor(error);
  std::string text = reason != nullptr
                         ? reason
                         : absl::StrCat("other: ",
                                        X509_verify_cert_error_string(error));
  if (reason != nullptr && std::string(reason) == "unknown_issuer") {
    run->unknown_issuer = true;
  }
  if (std::find(run->reasons.begin(), run->reasons.end(), text) ==
      run->reasons.end()) {
    run->reasons.push_back(std::move(text));
  }
  return 1;
}

VerifyRun Verify(X509* leaf, const std::vector<X509*>& untrusted,
                 const TrustStore& store, absl::string_view host,
                 int64_t now_unix) {
  VerifyRun run;
  // The stack borrows the certificates: free it with sk_X509_free, not the
  // UniquePtr deleter (which would free its elements too).
  struct FreeStackOnly {
    void operator()(STACK_OF(X509)* s) const { sk_X509_free(s); }
  };
  std::unique_ptr<STACK_OF(X509), FreeStackOnly> chain(sk_X509_new_null());
  for (X509* c : untrusted) sk_X509_push(chain.get(), c);
  bssl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || !X509_STORE_CTX_init(ctx.get(), store.store(), leaf, chain.get())) {
    ERR_clear_error();
    run.reasons.push_back("other: cannot initialise verification");
    return run;
  }
  X509_STORE_CTX_set_ex_data(ctx.get(), VerifyRunIndex(), &run);
  X509_STORE_CTX_set_verify_cb(ctx.get(), CollectErrors);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now_unix));
  // A trust anchor need not be self-signed: an organisation may trust its
  // issuing intermediate (given with --roots) without the root above it.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  if (!host.empty()) {
    // The length must be given: a 0 length poisons the parameters.
    X509_VERIFY_PARAM_set1_host(param, host.data(), host.size());
  }
  if (X509_verify_cert(ctx.get()) != 1 && run.reasons.empty()) {
    run.reasons.push_back(absl::StrCat(
        "other: ", X509_verify_cert_error_string(
                       X509_STORE_CTX_get_error(ctx.get()))));
  }
  STACK_OF(X509)* built = X509_STORE_CTX_get0_chain(ctx.get());
  for (size_t i = 0; built != nullptr && i < sk_X509_num(built); ++i) {
    run.path.push_back(Sha256Hex(sk_X509_value(built, i)));
  }
  ERR_clear_error();
  return run;
}

}  // namespace

NormalizedChain NormalizeChain(const std::vector<std::string>& served,
                               CertificateCache* cache) {
  NormalizedChain out;
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < served.size(); ++i) {
    bssl::UniquePtr<X509> x509;
    absl::StatusOr<Certificate> cert;
    if (cache != nullptr) {
      absl::StatusOr<std::shared_ptr<const Certificate>> cached =
          cache->Parse(served[i], &x509);
      if (cached.ok()) {
        cert = **cached;
      } else {
        cert = cached.status();
      }
    } else {
      cert = ParseCertificate(served[i], &x509);
    }
    if (!cert.ok()) {
      out.parse_errors.push_back(absl::StrCat("certificate ", i + 1, ": ",
                                              cert.status().message()));
      continue;
    }
    if (!seen.insert(cert->sha256_hex).second) {
      out.duplicates.push_back(static_cast<int>(i));
      continue;
    }
    out.certs.push_back(*std::move(cert));
    out.x509.push_back(std::move(x509));
    out.served_index.push_back(static_cast<int>(i));
  }
  if (out.certs.empty() || out.served_index[0] != 0) return out;  // no leaf

  std::vector<bool> used(out.certs.size(), false);
  out.path.push_back(0);
  used[0] = true;
  while (true) {
    const Certificate& current = out.certs[out.path.back()];
    if (current.self_issued) break;  // a root (or a self-signed leaf)
    int next = -1;
    for (size_t j = 0; j < out.certs.size(); ++j) {
      if (!used[j] && IssuedBy(current, out.certs[j])) {
        next = static_cast<int>(j);
        break;
      }
    }
    if (next < 0) break;
    used[next] = true;
    out.path.push_back(next);
  }
  for (size_t i = 1; i < out.path.size(); ++i) {
    if (out.path[i] < out.path[i - 1]) out.misordered = true;
  }
  out.root_included =
      out.path.size() > 1 && out.certs[out.path.back()].self_signed;
  for (size_t j = 0; j < out.certs.size(); ++j) {
    if (!used[j]) out.unrelated.push_back(static_cast<int>(j));
  }
  return out;
}

Validation ValidateChain(const NormalizedChain& chain, const TrustStore& store,
                         absl::string_view host, int64_t now_unix) {
  Validation v;
  if (!chain.has_leaf()) {
    v.reasons.push_back("other: no parsable leaf certificate");
    return v;
  }
  X509* leaf = chain.x509[chain.path[0]].get();
  std::vector<X509*> untrusted;
  for (size_t i = 0; i < chain.x509.size(); ++i) {
    if (static_cast<int>(i) != chain.path[0]) untrusted.push_back(chain.x509[i].get());
  }
  VerifyRun run = Verify(leaf, untrusted, store, host, now_unix);
  if (run.unknown_issuer && !store.intermediates().empty()) {
    // Complete the chain from known intermediates, as browsers do.
    std::vector<X509*> more = untrusted;
    for (const auto& c : store.intermediates()) more.push_back(c.get());
    VerifyRun completed = Verify(leaf, more, store, host, now_unix);
    if (!completed.unknown_issuer) {
      v.completed_from_cache = true;
      run = std::move(completed);
    }
  }
  v.reasons = std::move(run.reasons);
  // A self-signed certificate without keyCertSign is not taken as its own
  // issuer by the verifier, which then says "unknown issuer". Name it for
  // what it is.
  const Certificate& last = chain.certs[chain.path.back()];
  if (last.self_signed) {
    for (std::string& reason : v.reasons) {
      if (reason == "unknown_issuer") {
        reason = chain.path.size() == 1 ? "self_signed" : "untrusted_root";
      }
    }
  }
  v.verified_path = std::move(run.path);
  v.trusted = v.reasons.empty();
  v.anchored_public =
      !v.verified_path.empty() && store.IsPublicRoot(v.verified_path.back());
  return v;
}

}  // namespace ers
