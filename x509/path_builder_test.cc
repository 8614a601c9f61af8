// The path builder on graphs made here: backtracking past a dead branch
// and past a complete path that fails a rule, loops, a graph built to
// explode, and each form of name constraint with its precise reason.
#include "x509/path_builder.h"

#include <openssl/obj.h>

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_pki.h"
#include "x509/chain.h"

namespace ers {
namespace {

using testpki::CertSpec;
using testpki::KeyType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kDay = 86400;

struct Ca {
  bssl::UniquePtr<EVP_PKEY> key;
  bssl::UniquePtr<X509> cert;
};

CertSpec CaSpec(const std::string& name, uint64_t serial) {
  CertSpec s;
  s.common_name = name;
  s.is_ca = true;
  s.serial = serial;
  s.not_after_offset_s = 1000 * kDay;
  return s;
}

Ca SelfSigned(const std::string& name, uint64_t serial) {
  Ca ca;
  ca.key = testpki::MakeKey(KeyType::kEcP256);
  ca.cert = testpki::MakeCert(CaSpec(name, serial), ca.key.get(), nullptr, ca.key.get());
  return ca;
}

std::string LeafFor(EVP_PKEY* leaf_key, const Ca& issuer,
                    void (*tweak)(CertSpec&) = [](CertSpec&) {}) {
  CertSpec s;
  s.common_name = "site.test";
  s.dns_names = {"site.test"};
  s.serial = 77;
  tweak(s);
  return testpki::Der(
      testpki::MakeCert(s, leaf_key, issuer.cert.get(), issuer.key.get()).get());
}

Validation Validate(const std::vector<std::string>& served, const TrustStore& store,
                    const std::string& peer = "site.test") {
  ValidationOptions options;
  options.peer_name = peer;
  options.now_unix = time(nullptr);
  return ValidateChain(NormalizeChain(served), store, options);
}

TrustStore StoreWith(X509* root) {
  TrustStore store;
  EXPECT_TRUE(store.AddRootDer(testpki::Der(root), false).ok());
  return store;
}

// Two intermediates with one subject and key: the newer, tried first, is
// issued by a root nobody trusts; the builder must come back and take the
// other, issued by the trusted root.
TEST(PathBuilderTest, BacktracksPastAnUntrustedCrossSign) {
  Ca trusted = SelfSigned("Trusted Root", 1);
  Ca stranger = SelfSigned("Stranger Root", 2);
  bssl::UniquePtr<EVP_PKEY> inter_key = testpki::MakeKey(KeyType::kEcP256);
  CertSpec spec = CaSpec("Shared Intermediate", 10);
  bssl::UniquePtr<X509> via_trusted =
      testpki::MakeCert(spec, inter_key.get(), trusted.cert.get(), trusted.key.get());
  spec.serial = 11;
  spec.not_before_offset_s = -60;  // newer: ranked first
  bssl::UniquePtr<X509> via_stranger =
      testpki::MakeCert(spec, inter_key.get(), stranger.cert.get(), stranger.key.get());
  Ca inter{std::move(inter_key), nullptr};
  inter.cert.reset(X509_dup(via_trusted.get()));
  bssl::UniquePtr<EVP_PKEY> leaf_key = testpki::MakeKey(KeyType::kEcP256);
  const std::string leaf = LeafFor(leaf_key.get(), inter);

  TrustStore store = StoreWith(trusted.cert.get());
  Validation v = Validate({leaf, testpki::Der(via_stranger.get()),
                           testpki::Der(stranger.cert.get()), testpki::Der(via_trusted.get())},
                          store);
  EXPECT_TRUE(v.trusted) << absl::StrJoin(v.details, "; ");
  ASSERT_EQ(v.verified_path.size(), 3u);
  EXPECT_EQ(v.verified_path[1], Sha256Hex(via_trusted.get()));
  EXPECT_EQ(v.verified_path[2], Sha256Hex(trusted.cert.get()));

  // Without the good branch: the dead end is named, the stranger root.
  v = Validate({leaf, testpki::Der(via_stranger.get()), testpki::Der(stranger.cert.get())},
               store);
  EXPECT_FALSE(v.trusted);
  EXPECT_THAT(v.reasons, ElementsAre("untrusted_root"));
  EXPECT_THAT(v.details[0], HasSubstr("Stranger Root"));
}

// A complete path that fails a rule (an expired cross-sign; an
// intermediate whose name constraints exclude the leaf) is abandoned for a
// valid one; alone, it is reported with its precise reason.
TEST(PathBuilderTest, PrefersTheValidPathOverOneThatFailsARule) {
  Ca root = SelfSigned("Root", 1);
  bssl::UniquePtr<EVP_PKEY> inter_key = testpki::MakeKey(KeyType::kEcP256);
  CertSpec spec = CaSpec("Intermediate", 20);
  bssl::UniquePtr<X509> good =
      testpki::MakeCert(spec, inter_key.get(), root.cert.get(), root.key.get());
  spec.serial = 21;
  spec.not_before_offset_s = -60;
  spec.extensions = {{NID_name_constraints, "critical,excluded;DNS:site.test"}};
  bssl::UniquePtr<X509> constrained =
      testpki::MakeCert(spec, inter_key.get(), root.cert.get(), root.key.get());
  spec.serial = 22;
  spec.extensions.clear();
  spec.not_before_offset_s = -400 * kDay;
  spec.not_after_offset_s = -kDay;
  bssl::UniquePtr<X509> expired =
      testpki::MakeCert(spec, inter_key.get(), root.cert.get(), root.key.get());
  Ca inter{std::move(inter_key), nullptr};
  inter.cert.reset(X509_dup(good.get()));
  bssl::UniquePtr<EVP_PKEY> leaf_key = testpki::MakeKey(KeyType::kEcP256);
  const std::string leaf = LeafFor(leaf_key.get(), inter);
  TrustStore store = StoreWith(root.cert.get());

  Validation v = Validate({leaf, testpki::Der(constrained.get()), testpki::Der(expired.get()),
                           testpki::Der(good.get())},
                          store);
  EXPECT_TRUE(v.trusted) << absl::StrJoin(v.details, "; ");
  ASSERT_EQ(v.verified_path.size(), 3u);
  EXPECT_EQ(v.verified_path[1], Sha256Hex(good.get()));

  v = Validate({leaf, testpki::Der(constrained.get())}, store);
  EXPECT_THAT(v.reasons, ElementsAre("name_constraints"));
  EXPECT_THAT(v.details[0], HasSubstr("DNS name site.test is excluded by Intermediate"));
  v = Validate({leaf, testpki::Der(expired.get())}, store);
  EXPECT_THAT(v.reasons, ElementsAre("expired"));
  EXPECT_THAT(v.details[0], HasSubstr("Intermediate: expired 1 days ago"));
}

// Two CAs cross-signed by each other, neither trusted: the builder stops.
TEST(PathBuilderTest, CutsLoops) {
  bssl::UniquePtr<EVP_PKEY> a_key = testpki::MakeKey(KeyType::kEcP256);
  bssl::UniquePtr<EVP_PKEY> b_key = testpki::MakeKey(KeyType::kEcP256);
  // B's certificate is needed to issue A's; make B self-signed first.
  Ca b{nullptr, testpki::MakeCert(CaSpec("B", 2), b_key.get(), nullptr, b_key.get())};
  bssl::UniquePtr<X509> a_by_b = testpki::MakeCert(CaSpec("A", 3), a_key.get(), b.cert.get(),
                                                   b_key.get());
  bssl::UniquePtr<X509> b_by_a = testpki::MakeCert(CaSpec("B", 4), b_key.get(), a_by_b.get(),
                                                   a_key.get());
  Ca a{std::move(a_key), std::move(a_by_b)};
  bssl::UniquePtr<EVP_PKEY> leaf_key = testpki::MakeKey(KeyType::kEcP256);
  const std::string leaf = LeafFor(leaf_key.get(), a);
  Ca unrelated = SelfSigned("Unrelated Root", 9);
  TrustStore store = StoreWith(unrelated.cert.get());
  Validation v = Validate({leaf, testpki::Der(a.cert.get()), testpki::Der(b_by_a.get())}, store);
  EXPECT_FALSE(v.trusted);
  EXPECT_THAT(v.reasons, ElementsAre("unknown_root"));
  EXPECT_LE(v.signature_checks, 4);
}

// Six layers of three CAs each, every CA of a layer issued by every CA of
// the next under one name, nothing trusted at the top: 3^6 paths. The
// builder answers within its bounds.
TEST(PathBuilderTest, BoundsAGraphBuiltToExplode) {
  constexpr int kLayers = 6, kWidth = 3;
  std::vector<std::vector<bssl::UniquePtr<EVP_PKEY>>> keys(kLayers + 1);
  std::vector<std::vector<bssl::UniquePtr<X509>>> self(kLayers + 1);
  for (int l = 0; l <= kLayers; ++l) {
    for (int w = 0; w < kWidth; ++w) {
      keys[l].push_back(testpki::MakeKey(KeyType::kEcP256));
      self[l].push_back(testpki::MakeCert(CaSpec("Layer " + std::to_string(l), 100 + w),
                                          keys[l][w].get(), nullptr, keys[l][w].get()));
    }
  }
  std::vector<std::string> served;
  Ca bottom{nullptr, nullptr};
  bottom.key.reset(keys[0][0].get());
  EVP_PKEY_up_ref(keys[0][0].get());
  bottom.cert.reset(X509_dup(self[0][0].get()));
  bssl::UniquePtr<EVP_PKEY> leaf_key = testpki::MakeKey(KeyType::kEcP256);
  served.push_back(LeafFor(leaf_key.get(), bottom));
  uint64_t serial = 1000;
  for (int l = 0; l < kLayers; ++l) {
    for (int w = 0; w < kWidth; ++w) {
      for (int p = 0; p < kWidth; ++p) {
        CertSpec spec = CaSpec("Layer " + std::to_string(l), ++serial);
        served.push_back(testpki::Der(testpki::MakeCert(spec, keys[l][w].get(),
                                                        self[l + 1][p].get(),
                                                        keys[l + 1][p].get())
                                          .get()));
      }
    }
  }
  Ca unrelated = SelfSigned("Unrelated Root", 9);
  TrustStore store = StoreWith(unrelated.cert.get());
  Validation v = Validate(served, store);
  EXPECT_FALSE(v.trusted);
  EXPECT_LE(v.signature_checks, 128);
  EXPECT_FALSE(v.reasons.empty());
}

struct NameCase {
  std::string constraint;  // OpenSSL config value of nameConstraints
  std::vector<std::string> names;  // the leaf's other subjectAltNames
  std::vector<std::string> ips;
  bool allowed;
  std::string why;  // a substring of the detail when not allowed
};

TEST(PathBuilderTest, EachFormOfNameConstraint) {
  const std::vector<NameCase> cases = {
      {"critical,permitted;DNS:site.test", {}, {}, true, ""},
      {"critical,permitted;DNS:other.test", {}, {}, false, "DNS name site.test is not permitted"},
      {"critical,permitted;IP:10.0.0.0/255.0.0.0", {}, {"10.1.2.3"}, true, ""},
      {"critical,permitted;IP:10.0.0.0/255.0.0.0", {}, {"11.0.0.1"}, false,
       "IP address 11.0.0.1 is not permitted"},
      {"critical,excluded;IP:2001:db8::/ffff:ffff::", {}, {"2001:db8::5"}, false,
       "IP address 2001:db8:0:0:0:0:0:5 is excluded"},
      {"critical,permitted;email:example.org", {"email:ops@example.org"}, {}, true, ""},
      {"critical,permitted;email:example.org", {"email:ops@other.org"}, {}, false,
       "e-mail address ops@other.org is not permitted"},
      {"critical,excluded;URI:.evil.test", {"URI:https://www.evil.test/x"}, {}, false,
       "URI https://www.evil.test/x is excluded"},
      {"critical,permitted;URI:.example.org", {"URI:https://www.example.org/"}, {}, true, ""},
      {"critical,permitted;dirName:dir_sect", {}, {}, false, "directory name"},
      {"critical,excluded;otherName:1.2.3.4;UTF8:x", {"otherName:1.2.3.4;UTF8:y"}, {}, false,
       "unsupported form"},
      {"critical,excluded;DNS:test", {}, {}, false, "DNS name site.test is excluded"},
  };
  Ca root = SelfSigned("Root", 1);
  TrustStore store = StoreWith(root.cert.get());
  uint64_t serial = 500;
  for (const NameCase& c : cases) {
    SCOPED_TRACE(c.constraint + " " + absl::StrJoin(c.names, ",") + absl::StrJoin(c.ips, ","));
    if (c.constraint.find("dirName") != std::string::npos) {
      // OpenSSL's config syntax needs a section for a directory name; the
      // conformance suites cover those (limbo's name-constraint-dn cases).
      continue;
    }
    Ca inter{testpki::MakeKey(KeyType::kEcP256), nullptr};
    CertSpec spec = CaSpec("Constrained CA", ++serial);
    spec.extensions = {{NID_name_constraints, c.constraint}};
    inter.cert = testpki::MakeCert(spec, inter.key.get(), root.cert.get(), root.key.get());
    CertSpec leaf_spec;
    leaf_spec.common_name = "site.test";
    leaf_spec.dns_names = {"site.test"};
    leaf_spec.other_names = c.names;
    leaf_spec.ip_addresses = c.ips;
    leaf_spec.serial = ++serial;
    bssl::UniquePtr<EVP_PKEY> leaf_key = testpki::MakeKey(KeyType::kEcP256);
    const std::string leaf = testpki::Der(
        testpki::MakeCert(leaf_spec, leaf_key.get(), inter.cert.get(), inter.key.get()).get());
    Validation v = Validate({leaf, testpki::Der(inter.cert.get())}, store);
    EXPECT_EQ(v.trusted, c.allowed) << absl::StrJoin(v.details, "; ");
    if (!c.allowed) {
      EXPECT_THAT(v.reasons, ElementsAre("name_constraints"));
      ASSERT_FALSE(v.details.empty());
      EXPECT_THAT(v.details[0], HasSubstr(c.why));
    }
  }
}

}  // namespace
}  // namespace ers
