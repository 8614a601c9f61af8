#include "x509/path_builder.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/ip_address.h"
#include "x509/name_constraints.h"

namespace ers {

const char* CertSourceName(CertSource s) {
  switch (s) {
    case CertSource::kServed:
      return "served";
    case CertSource::kAia:
      return "aia";
    case CertSource::kCache:
      return "cache";
    case CertSource::kAnchor:
      return "anchor";
  }
  return "served";
}

namespace {

constexpr int64_t kDay = 86400;
// A bound on the issuers followed from any one certificate and on the
// certificates looked at in all, against graphs built to explode.
constexpr size_t kMaxIssuersPerCertificate = 16;
constexpr int kMaxExpansions = 2048;

bool Has(const std::vector<std::string>& list, absl::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

class Builder {
 public:
  Builder(const PathCandidate& leaf, const std::vector<PathCandidate>& untrusted,
          const TrustStore& store, const PathOptions& options)
      : store_(store), options_(options) {
    NodeFor(leaf);
    for (const PathCandidate& c : untrusted) NodeFor(c);
  }

  PathResult Run() {
    std::vector<int> path = {0};
    if (!Extend(&path)) Settle();
    result_.signature_checks = signature_checks_;
    result_.paths_judged = paths_judged_;
    return std::move(result_);
  }

 private:
  struct Node {
    PathCandidate c;
    bool anchor = false;
    bssl::UniquePtr<EVP_PKEY> key;
    bool key_read = false;
    std::optional<std::vector<int>> issuers;  // sorted candidates, once
  };

  // NodeFor returns the node of |c|, adding it; a certificate met twice is
  // one node, an anchor whichever source it came from.
  int NodeFor(const PathCandidate& c) {
    const std::string& sha = c.cert->sha256_hex;
    auto it = by_sha_.find(sha);
    if (it != by_sha_.end()) return it->second;
    Node n;
    n.c = c;
    n.anchor = c.source == CertSource::kAnchor || store_.IsRoot(sha);
    if (n.anchor) n.c.source = CertSource::kAnchor;
    nodes_.push_back(std::move(n));
    by_sha_[sha] = static_cast<int>(nodes_.size() - 1);
    return static_cast<int>(nodes_.size() - 1);
  }

  bool ValidAt(const Certificate& c) const {
    return c.not_before_unix <= options_.now_unix && options_.now_unix <= c.not_after_unix;
  }

  // Issuers lists the candidate issuers of node |child| by name, the most
  // promising first: anchors, then certificates valid now, then those the
  // authority key identifier names, served before fetched before cached,
  // the newest first.
  const std::vector<int>& Issuers(int child) {
    if (nodes_[child].issuers) return *nodes_[child].issuers;
    const Certificate& cert = *nodes_[child].c.cert;
    std::vector<int> found;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (static_cast<int>(i) != child && nodes_[i].c.cert->subject_der == cert.issuer_der) {
        found.push_back(static_cast<int>(i));
      }
    }
    for (const TrustedCertificate* s : store_.RootsNamed(cert.issuer_der)) {
      found.push_back(NodeFor({&s->cert, s->x509.get(), CertSource::kAnchor}));
    }
    for (const TrustedCertificate* s : store_.IntermediatesNamed(cert.issuer_der)) {
      found.push_back(NodeFor({&s->cert, s->x509.get(), CertSource::kCache}));
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    found.erase(std::remove(found.begin(), found.end(), child), found.end());
    auto rank = [&](int i) {
      const Node& n = nodes_[i];
      const bool aki_match = !cert.authority_key_id.empty() &&
                             cert.authority_key_id == n.c.cert->subject_key_id;
      const bool aki_conflict = !cert.authority_key_id.empty() &&
                                !n.c.cert->subject_key_id.empty() && !aki_match;
      return std::make_tuple(aki_conflict, !n.anchor, !ValidAt(*n.c.cert), !aki_match,
                             static_cast<int>(n.c.source), -n.c.cert->not_before_unix, i);
    };
    std::sort(found.begin(), found.end(), [&](int a, int b) { return rank(a) < rank(b); });
    if (found.size() > kMaxIssuersPerCertificate) found.resize(kMaxIssuersPerCertificate);
    nodes_[child].issuers = std::move(found);
    return *nodes_[child].issuers;
  }

  // Signs reports whether |parent|'s key verifies |child|'s signature;
  // each pair is checked once, within the budget.
  bool Signs(int child, int parent) {
    const auto key = std::make_pair(child, parent);
    auto it = signatures_.find(key);
    if (it != signatures_.end()) return it->second;
    if (signature_checks_ >= options_.max_signature_checks) {
      budget_exhausted_ = true;
      return false;
    }
    ++signature_checks_;
    Node& p = nodes_[parent];
    if (!p.key_read) {
      p.key.reset(X509_get_pubkey(p.c.x509));
      p.key_read = true;
    }
    const bool ok = p.key && X509_verify(nodes_[child].c.x509, p.key.get()) == 1;
    ERR_clear_error();
    signatures_[key] = ok;
    return ok;
  }

  bool OnPath(const std::vector<int>& path, int candidate) const {
    const Certificate& c = *nodes_[candidate].c.cert;
    for (int i : path) {
      const Certificate& p = *nodes_[i].c.cert;
      // The same certificate, or the same subject and key (a re-issue or a
      // cross-sign of a CA already on the path): a loop.
      if (i == candidate || (p.subject_der == c.subject_der &&
                             p.spki_sha256_hex == c.spki_sha256_hex)) {
        return true;
      }
    }
    return false;
  }

  // Extend grows |path| (leaf first) depth first; true when a path was
  // found that passes every rule.
  bool Extend(std::vector<int>* path) {
    if (++expansions_ > kMaxExpansions) budget_exhausted_ = true;
    if (budget_exhausted_ || paths_judged_ >= options_.max_paths) return false;
    const int top = path->back();
    if (nodes_[top].anchor) return Complete(*path);
    const Certificate& top_cert = *nodes_[top].c.cert;
    int intermediates = 0;  // logical ones: self-issued re-keys do not count
    for (size_t j = 1; j < path->size(); ++j) {
      intermediates += nodes_[(*path)[j]].c.cert->self_issued ? 0 : 1;
    }
    const std::vector<int> issuers = Issuers(top);
    bool any_named = false, any_signed = false;
    for (int candidate : issuers) {
      if (OnPath(*path, candidate)) continue;
      any_named = true;
      // An anchor adds no intermediate; anything else must fit.
      if (!nodes_[candidate].anchor && !nodes_[candidate].c.cert->self_issued &&
          intermediates + 1 > options_.max_intermediates) {
        DeadEnd(*path, "path_too_long",
                absl::StrCat("more than ", options_.max_intermediates, " intermediates"));
        continue;
      }
      if (!Signs(top, candidate)) continue;
      any_signed = true;
      path->push_back(candidate);
      if (Extend(path)) return true;
      path->pop_back();
      if (budget_exhausted_ || paths_judged_ >= options_.max_paths) return false;
    }
    if (!any_named) {
      if (top_cert.self_signed) {
        if (path->size() == 1) {
          DeadEnd(*path, "self_signed", absl::StrCat(DisplayName(top_cert), ": self-signed"));
        } else {
          DeadEnd(*path, "untrusted_root",
                  absl::StrCat(DisplayName(top_cert), ": a root that is not trusted"));
        }
      } else if (top_cert.is_ca) {
        // A CA at the top whose issuer nothing holds: most likely issued by
        // a root this machine does not trust (a private PKI), which no
        // server is expected to send.
        DeadEnd(*path, "unknown_root",
                absl::StrCat("the issuer of ", DisplayName(top_cert), " (", top_cert.issuer,
                             ") is not a trusted root and was not found"),
                /*issuer_missing=*/true);
      } else {
        DeadEnd(*path, "unknown_issuer",
                absl::StrCat("the issuer of ", DisplayName(top_cert), " (", top_cert.issuer,
                             ") was not sent and was not found"),
                /*issuer_missing=*/true);
      }
    } else if (!any_signed && !budget_exhausted_) {
      DeadEnd(*path, "bad_signature",
              absl::StrCat(DisplayName(top_cert), ": no certificate named as its issuer ",
                           "verifies its signature"));
    }
    return false;
  }

  // DeadEnd remembers a path that reaches no anchor, the longest one.
  void DeadEnd(const std::vector<int>& path, const char* reason, std::string detail,
               bool issuer_missing = false) {
    if (best_complete_ || (dead_end_ && dead_end_->path.size() >= path.size())) return;
    Attempt a;
    a.path = path;
    a.errors = Judge(path, /*complete=*/false);
    a.errors.insert(a.errors.begin(), {reason, std::move(detail)});
    a.issuer_missing = issuer_missing;
    dead_end_ = std::move(a);
  }

  bool Complete(const std::vector<int>& path) {
    ++paths_judged_;
    std::vector<PathError> errors = Judge(path, /*complete=*/true);
    if (errors.empty()) {
      Fill(path, {}, false);
      result_.trusted = true;
      return true;
    }
    if (!best_complete_ || errors.size() < best_complete_->errors.size()) {
      best_complete_ = Attempt{path, std::move(errors), false};
    }
    return false;
  }

  void Settle() {
    if (best_complete_) {
      Fill(best_complete_->path, std::move(best_complete_->errors), false);
    } else if (dead_end_) {
      Fill(dead_end_->path, std::move(dead_end_->errors), dead_end_->issuer_missing);
    } else {
      Fill({0}, {{"path_building_limit",
                  absl::StrCat("no path found within ", options_.max_signature_checks,
                               " signature checks")}},
           false);
    }
    if (budget_exhausted_ && !best_complete_) {
      result_.errors.push_back({"path_building_limit",
                                "the search for a path stopped at its bound"});
    }
  }

  void Fill(const std::vector<int>& path, std::vector<PathError> errors, bool issuer_missing) {
    result_.path.clear();
    for (int i : path) result_.path.push_back(nodes_[i].c);
    // One entry per reason: the first says what it is.
    for (PathError& e : errors) {
      bool seen = false;
      for (const PathError& kept : result_.errors) seen = seen || kept.reason == e.reason;
      if (!seen) result_.errors.push_back(std::move(e));
    }
    result_.issuer_missing = issuer_missing;
  }

  // Judge applies the rules to |path| (leaf first; when |complete|, its
  // last certificate is the anchor). An anchor given as a certificate is
  // held to the same rules as the rest, as OpenSSL and the CA/Browser
  // Forum do, except that it may be a version 1 root without extensions.
  std::vector<PathError> Judge(const std::vector<int>& path, bool complete) {
    std::vector<PathError> errors;
    auto fail = [&](const char* reason, std::string detail) {
      errors.push_back({reason, std::move(detail)});
    };
    const size_t n = path.size();
    for (size_t i = 0; i < n; ++i) {
      const Node& node = nodes_[path[i]];
      const Certificate& c = *node.c.cert;
      X509* x509 = node.c.x509;
      const bool anchor = complete && i + 1 == n;
      const std::string name = DisplayName(c);
      if (options_.now_unix > c.not_after_unix) {
        fail("expired", absl::StrCat(name, ": expired ",
                                     (options_.now_unix - c.not_after_unix) / kDay, " days ago"));
      } else if (options_.now_unix < c.not_before_unix) {
        fail("not_yet_valid", absl::StrCat(name, ": valid only from ", c.not_before_unix,
                                           " (Unix time)"));
      }
      const uint32_t flags = X509_get_extension_flags(x509);
      if (flags & EXFLAG_INVALID) {
        fail("invalid_extension", absl::StrCat(name, ": a malformed or repeated extension"));
      }
      if (flags & EXFLAG_CRITICAL) {
        fail("critical_extension", absl::StrCat(name, ": a critical extension ers does not know"));
      }
      CheckExtensions(x509, c, name, &errors);
      // Roots in use carry a zero serial (Starfield G2): not judged there.
      if (!anchor && (absl::StartsWith(c.serial_hex, "-") || c.serial_hex.size() > 40 ||
                      c.serial_hex.find_first_not_of("0") == std::string::npos)) {
        fail("invalid_serial", absl::StrCat(name, ": serial number ", c.serial_hex,
                                            " (RFC 5280: positive, at most 20 octets)"));
      }
      CheckKey(c, name, &errors);
      if (i == 0) {
        if ((flags & EXFLAG_XKUSAGE) && !Has(c.extended_key_usage, "serverAuth")) {
          fail("wrong_eku", absl::StrCat(name, ": its extended key usage does not allow a "
                                         "TLS server"));
        }
        if (!c.is_ca && Has(c.key_usage, "keyCertSign")) {
          fail("invalid_extension", absl::StrCat(name, ": key usage keyCertSign in a "
                                                 "certificate that is not a CA"));
        }
        if (!c.is_ca && X509_get_ext_by_NID(x509, NID_name_constraints, -1) >= 0) {
          fail("invalid_extension", absl::StrCat(name, ": name constraints in a certificate "
                                                 "that is not a CA"));
        }
        for (const std::string& dns : c.dns_names) {
          if (!ValidDnsName(dns)) {
            fail("invalid_name", absl::StrCat(name, ": a malformed DNS name \"", dns, "\""));
            break;
          }
        }
        continue;
      }
      // An issuer.
      const Certificate& child = *nodes_[path[i - 1]].c.cert;
      if (child.signature_digest == Digest::kMd5 || child.signature_digest == Digest::kSha1) {
        fail("weak_signature", absl::StrCat(DisplayName(child), ": signed with ",
                                            child.signature_algorithm));
      }
      const bool v1_anchor = anchor && X509_get_version(x509) == X509_VERSION_1;
      if (!v1_anchor && (!c.has_basic_constraints || !c.is_ca)) {
        fail("invalid_ca", absl::StrCat(name, ": not a CA (basic constraints)"));
      }
      if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(x509) & KU_KEY_CERT_SIGN)) {
        fail("invalid_ca", absl::StrCat(name, ": its key usage does not allow signing "
                                        "certificates"));
      }
      if (X509_NAME_entry_count(X509_get_subject_name(x509)) == 0) {
        fail("invalid_ca", absl::StrCat("a CA with an empty subject issued ", DisplayName(child)));
      }
      if (c.path_len >= 0) {
        int below = 0;  // intermediates under it that are not self-issued
        for (size_t j = 1; j < i; ++j) below += nodes_[path[j]].c.cert->self_issued ? 0 : 1;
        if (below > c.path_len) {
          fail("path_length_exceeded",
               absl::StrCat(name, ": path length ", c.path_len, ", ", below,
                            " intermediates below it"));
        }
      }
      if (!anchor && !c.extended_key_usage.empty() && !Has(c.extended_key_usage, "serverAuth") &&
          !Has(c.extended_key_usage, "anyExtendedKeyUsage")) {
        fail("wrong_eku", absl::StrCat(name, ": a CA whose extended key usage excludes TLS "
                                       "servers"));
      }
      CheckNameConstraints(path, i, &errors);
    }
    if (!options_.peer_name.empty() && !MatchesPeer(nodes_[path[0]].c.x509)) {
      fail("name_mismatch", absl::StrCat(DisplayName(*nodes_[path[0]].c.cert),
                                         " is not valid for ", options_.peer_name));
    }
    return errors;
  }

  // CheckKey applies the CA/Browser Forum's key rules (6.1.5): RSA of at
  // least 2048 bits, a multiple of 8; keys TLS libraries cannot use.
  static void CheckKey(const Certificate& c, const std::string& name,
                       std::vector<PathError>* errors) {
    if (!c.key_supported || c.key_type == KeyType::kDsa) {
      errors->push_back({"unsupported_key",
                         absl::StrCat(name, ": a ", KeyTypeName(c.key_type), " key",
                                      c.key_curve.empty() ? "" : absl::StrCat(" (", c.key_curve, ")"),
                                      " that TLS clients do not accept")});
    } else if (c.key_type == KeyType::kRsa && (c.key_bits < 2048 || c.key_bits % 8 != 0)) {
      errors->push_back({"weak_key", absl::StrCat(name, ": RSA-", c.key_bits, " (at least 2048 "
                                                  "bits, a multiple of 8)")});
    }
  }

  // ValidDnsName: labels of letters, digits, hyphens and underscores, none
  // empty; a wildcard only as the whole leftmost label.
  static bool ValidDnsName(absl::string_view dns) {
    if (dns.empty() || dns.size() > 253) return false;
    size_t start = 0;
    for (size_t label = 0;; ++label) {
      const size_t dot = dns.find('.', start);
      const absl::string_view part =
          dns.substr(start, dot == absl::string_view::npos ? absl::string_view::npos : dot - start);
      if (part.empty() || part.size() > 63) return false;
      if (!(label == 0 && part == "*" && dot != absl::string_view::npos)) {
        for (char ch : part) {
          if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') {
            return false;
          }
        }
      }
      if (dot == absl::string_view::npos) return true;
      start = dot + 1;
    }
  }

  // CheckExtensions applies RFC 5280's and the CA/Browser Forum's rules on
  // the form of extensions: key identifiers not critical, an authority key
  // identifier by key identifier only (and, on a self-signed certificate,
  // its own), a subject alternative name critical exactly when the subject
  // is empty, policy constraints critical, an extended key usage not
  // critical in a leaf, extensions that parse.
  static void CheckExtensions(X509* x509, const Certificate& c, const std::string& name,
                              std::vector<PathError>* errors) {
    auto fail = [&](std::string detail) {
      errors->push_back({"invalid_extension", absl::StrCat(name, ": ", detail)});
    };
    auto critical = [&](int nid) {
      const int at = X509_get_ext_by_NID(x509, nid, -1);
      return at < 0 ? -1 : X509_EXTENSION_get_critical(X509_get_ext(x509, at));
    };
    if (critical(NID_authority_key_identifier) == 1) fail("a critical authority key identifier");
    if (critical(NID_subject_key_identifier) == 1) fail("a critical subject key identifier");
    if (critical(NID_policy_constraints) == 0) fail("policy constraints not marked critical");
    if (!c.is_ca && critical(NID_ext_key_usage) == 1) fail("a critical extended key usage");
    const int san = critical(NID_subject_alt_name);
    const bool empty_subject = X509_NAME_entry_count(X509_get_subject_name(x509)) == 0;
    if (san == 1 && !empty_subject) fail("a critical subject alternative name and a subject");
    if (san == 0 && empty_subject) fail("an empty subject and a non-critical subject alternative name");
    if (X509_get_ext_by_NID(x509, NID_authority_key_identifier, -1) >= 0) {
      if (X509_get0_authority_issuer(x509) != nullptr ||
          X509_get0_authority_serial(x509) != nullptr) {
        fail("an authority key identifier naming an issuer and serial");
      } else if (X509_get0_authority_key_id(x509) == nullptr) {
        fail("an authority key identifier without a key identifier");
      } else if (c.self_signed && !c.subject_key_id.empty() &&
                 c.authority_key_id != c.subject_key_id) {
        fail("a self-signed certificate whose authority key identifier is not its own");
      }
    }
    for (int nid : {NID_info_access, NID_crl_distribution_points, NID_certificate_policies}) {
      int crit = -1;
      void* parsed = X509_get_ext_d2i(x509, nid, &crit, nullptr);
      if (parsed == nullptr && crit >= 0) {
        fail(absl::StrCat("a malformed ", OBJ_nid2ln(nid), " extension"));
      }
      if (nid == NID_info_access && parsed != nullptr) {
        if (sk_ACCESS_DESCRIPTION_num(static_cast<AUTHORITY_INFO_ACCESS*>(parsed)) == 0) {
          fail("an empty authority information access extension");
        }
        AUTHORITY_INFO_ACCESS_free(static_cast<AUTHORITY_INFO_ACCESS*>(parsed));
      } else if (nid == NID_crl_distribution_points) {
        CRL_DIST_POINTS_free(static_cast<CRL_DIST_POINTS*>(parsed));
      } else if (nid == NID_certificate_policies) {
        CERTIFICATEPOLICIES_free(static_cast<CERTIFICATEPOLICIES*>(parsed));
      }
      ERR_clear_error();
    }
  }

  void CheckNameConstraints(const std::vector<int>& path, size_t issuer,
                            std::vector<PathError>* errors) {
    const Node& ca = nodes_[path[issuer]];
    absl::StatusOr<std::optional<NameConstraintSet>> nc = NameConstraintsOf(ca.c.x509);
    if (!nc.ok()) {
      errors->push_back({"name_constraints", absl::StrCat(DisplayName(*ca.c.cert), ": ",
                                                          nc.status().message())});
      return;
    }
    if (!nc->has_value()) return;
    for (size_t j = 0; j < issuer; ++j) {
      const Node& below = nodes_[path[j]];
      // Self-issued intermediates are exempt (RFC 5280 4.2.1.10).
      if (j > 0 && below.c.cert->self_issued) continue;
      std::string why = (*nc)->Check(below.c.x509);
      if (!why.empty()) {
        errors->push_back({"name_constraints",
                           absl::StrCat(DisplayName(*below.c.cert), ": ", why, " by ",
                                        DisplayName(*ca.c.cert))});
        return;
      }
    }
  }

  bool MatchesPeer(X509* leaf) const {
    const std::string& peer = options_.peer_name;
    int ok;
    if (ParseIpAddress(peer).ok()) {
      ok = X509_check_ip_asc(leaf, peer.c_str(), 0);
    } else {
      ok = X509_check_host(leaf, peer.data(), peer.size(),
                           X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
                               X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
                           nullptr);
    }
    ERR_clear_error();
    return ok == 1;
  }

  struct Attempt {
    std::vector<int> path;
    std::vector<PathError> errors;
    bool issuer_missing = false;
  };

  const TrustStore& store_;
  const PathOptions& options_;
  std::vector<Node> nodes_;
  absl::flat_hash_map<std::string, int> by_sha_;
  absl::flat_hash_map<std::pair<int, int>, bool> signatures_;
  int signature_checks_ = 0;
  int paths_judged_ = 0;
  int expansions_ = 0;
  bool budget_exhausted_ = false;
  std::optional<Attempt> best_complete_;
  std::optional<Attempt> dead_end_;
  PathResult result_;
};

}  // namespace

PathResult BuildPath(const PathCandidate& leaf, const std::vector<PathCandidate>& untrusted,
                     const TrustStore& store, const PathOptions& options) {
  return Builder(leaf, untrusted, store, options).Run();
}

}  // namespace ers
