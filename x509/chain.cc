#include "x509/chain.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "x509/path_builder.h"

namespace ers {
namespace {

// IssuedBy reports whether |parent| is |child|'s issuer by name and, where
// both carry them, key identifiers.
bool IssuedBy(const Certificate& child, const Certificate& parent) {
  if (child.issuer_der != parent.subject_der) return false;
  return child.authority_key_id.empty() || parent.subject_key_id.empty() ||
         child.authority_key_id == parent.subject_key_id;
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
                         const ValidationOptions& options) {
  Validation v;
  if (!chain.has_leaf()) {
    v.reasons.push_back("other: no parsable leaf certificate");
    v.details.push_back("no parsable leaf certificate");
    return v;
  }
  const int leaf_index = chain.path[0];
  const PathCandidate leaf{&chain.certs[leaf_index], chain.x509[leaf_index].get(),
                           CertSource::kServed};
  std::vector<PathCandidate> untrusted;
  for (size_t i = 0; i < chain.certs.size(); ++i) {
    if (static_cast<int>(i) != leaf_index) {
      untrusted.push_back({&chain.certs[i], chain.x509[i].get(), CertSource::kServed});
    }
  }
  std::vector<std::pair<Certificate, bssl::UniquePtr<X509>>> fetched;
  fetched.reserve(options.fetched.size());
  for (const std::string& der : options.fetched) {
    bssl::UniquePtr<X509> x509;
    absl::StatusOr<Certificate> cert = ParseCertificate(der, &x509);
    if (cert.ok()) fetched.emplace_back(*std::move(cert), std::move(x509));
  }
  for (auto& [cert, x509] : fetched) untrusted.push_back({&cert, x509.get(), CertSource::kAia});

  PathOptions path_options;
  path_options.peer_name = options.peer_name;
  path_options.now_unix = options.now_unix;
  path_options.max_intermediates = options.max_intermediates;
  const PathResult result = BuildPath(leaf, untrusted, store, path_options);
  v.trusted = result.trusted;
  v.issuer_missing = result.issuer_missing;
  if (result.issuer_missing && !result.path.empty()) {
    v.missing_issuer_urls = result.path.back().cert->ca_issuer_urls;
  }
  v.signature_checks = result.signature_checks;
  for (const PathError& e : result.errors) {
    v.reasons.push_back(e.reason);
    v.details.push_back(e.detail);
  }
  for (const PathCandidate& c : result.path) {
    v.verified_path.push_back(c.cert->sha256_hex);
    if (c.source == CertSource::kCache) {
      v.completed_from_cache = true;
      v.completed_via = "cache";
    } else if (c.source == CertSource::kAia && v.completed_via == "served") {
      v.completed_via = "aia";
    }
  }
  if (result.path.size() >= 2) v.leaf_issuer_der = result.path[1].cert->der;
  v.ocsp_from_responder = options.ocsp_from_responder;
  if (!options.ocsp_response.empty()) {
    if (result.path.size() < 2) {
      OcspVerdict unknown;
      unknown.problem = "the leaf's issuer is not known, so the response cannot be verified";
      v.ocsp = unknown;
    } else {
      v.ocsp = CheckOcspResponse(options.ocsp_response, result.path[0].x509,
                                 result.path[1].x509, options.now_unix);
      if (v.ocsp->valid && v.ocsp->status == OcspStatus::kRevoked) {
        v.trusted = false;
        v.reasons.push_back("revoked");
        v.details.push_back(absl::StrCat(DisplayName(chain.leaf()),
                                         options.ocsp_from_responder
                                             ? ": revoked (OCSP responder) at "
                                             : ": revoked (stapled OCSP response) at ",
                                         v.ocsp->revoked_at, " (Unix time)"));
      }
    }
  }
  for (size_t i = 0; !options.crls.empty() && i + 1 < result.path.size(); ++i) {
    const Certificate& cert = *result.path[i].cert;
    const std::string& name = DisplayName(cert);
    for (const std::string& crl : options.crls) {
      const CrlVerdict c =
          CheckCrl(crl, result.path[i].x509, result.path[i + 1].x509, options.now_unix);
      if (!c.applies) continue;
      v.crl_checked = true;
      if (!c.valid || c.revoked) {
        v.trusted = false;
        v.reasons.push_back(c.valid ? "revoked" : "revocation_unknown");
        v.details.push_back(c.valid ? absl::StrCat(name, ": revoked (CRL) at ", c.revoked_at,
                                                   " (Unix time)")
                                    : absl::StrCat(name, ": its CRL cannot be relied on: ",
                                                   c.problem));
      }
    }
  }
  v.anchored_public = v.trusted && store.IsPublicRoot(v.verified_path.back());
  return v;
}

}  // namespace ers
