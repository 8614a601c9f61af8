// One case per finding, each with its golden set of finding identifiers,
// built from a test PKI made here: a clean case has none.
#include "x509/findings.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <ctime>
#include <set>
#include <string>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_pki.h"

namespace ers {
namespace {

using testpki::CertSpec;
using testpki::KeyType;

constexpr int64_t kDay = 86400;

class FindingsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new Pki();
    pki_->root_key = testpki::MakeKey(KeyType::kEcP256);
    CertSpec root;
    root.common_name = "Findings Root";
    root.is_ca = true;
    root.not_after_offset_s = 3650 * kDay;
    pki_->root = testpki::MakeCert(root, pki_->root_key.get(), nullptr,
                                   pki_->root_key.get());
    pki_->inter_key = testpki::MakeKey(KeyType::kEcP256);
    CertSpec inter;
    inter.common_name = "Findings Intermediate";
    inter.is_ca = true;
    inter.serial = 2;
    inter.not_after_offset_s = 1800 * kDay;
    pki_->inter = testpki::MakeCert(inter, pki_->inter_key.get(),
                                    pki_->root.get(), pki_->root_key.get());
    // A second intermediate below the first, for longer paths.
    pki_->inter2_key = testpki::MakeKey(KeyType::kEcP256);
    inter.common_name = "Findings Intermediate 2";
    inter.serial = 3;
    pki_->inter2 = testpki::MakeCert(inter, pki_->inter2_key.get(),
                                     pki_->inter.get(), pki_->inter_key.get());
    // A private PKI the store does not trust.
    pki_->other_root_key = testpki::MakeKey(KeyType::kEcP256);
    root.common_name = "Private Root";
    pki_->other_root = testpki::MakeCert(root, pki_->other_root_key.get(),
                                         nullptr, pki_->other_root_key.get());
    pki_->leaf_key = testpki::MakeKey(KeyType::kEcP256);
  }
  static void TearDownTestSuite() { delete pki_; }

  // Leaf issues a leaf for "site.test" from the intermediate, adjusted by
  // |tweak|.
  template <typename Tweak>
  static std::string Leaf(Tweak tweak, EVP_PKEY* key = nullptr,
                          X509* issuer = nullptr, EVP_PKEY* issuer_key = nullptr) {
    CertSpec spec;
    spec.common_name = "site.test";
    spec.dns_names = {"site.test"};
    spec.not_before_offset_s = -10 * kDay;
    spec.not_after_offset_s = 190 * kDay;
    spec.serial = 1000 + counter_++;
    tweak(spec);
    bssl::UniquePtr<X509> leaf = testpki::MakeCert(
        spec, key != nullptr ? key : pki_->leaf_key.get(),
        issuer != nullptr ? issuer : pki_->inter.get(),
        issuer_key != nullptr ? issuer_key : pki_->inter_key.get());
    return testpki::Der(leaf.get());
  }
  static std::string Leaf() {
    return Leaf([](CertSpec&) {});
  }
  static std::string Der(X509* x) { return testpki::Der(x); }

  TrustStore Store(bool is_public = true, bool with_cache = false) {
    TrustStore store;
    EXPECT_TRUE(store.AddRootsPem(testpki::CertPem(pki_->root.get()), "test",
                                  is_public)
                    .ok());
    if (with_cache) {
      EXPECT_TRUE(store.AddIntermediatesPem(testpki::CertPem(pki_->inter.get()),
                                            "cache")
                      .ok());
    }
    return store;
  }

  static std::set<std::string> Ids(const ChainReport& r) {
    std::set<std::string> ids;
    for (const Finding& f : r.findings) ids.insert(f.id);
    return ids;
  }

  ChainReport Analyze(const std::vector<std::string>& served,
                      const TrustStore& store, const std::string& host = "site.test",
                      uint16_t version = TLS1_3_VERSION, Policy policy = Policy()) {
    EndpointFacts facts;
    facts.host = host;
    facts.tls_version = version;
    return AnalyzeChain(served, facts, store, policy, time(nullptr));
  }

  struct Pki {
    bssl::UniquePtr<EVP_PKEY> root_key, inter_key, inter2_key, other_root_key,
        leaf_key;
    bssl::UniquePtr<X509> root, inter, inter2, other_root;
  };
  static Pki* pki_;
  static int counter_;
};
FindingsTest::Pki* FindingsTest::pki_ = nullptr;
int FindingsTest::counter_ = 0;

using ::testing::ElementsAre;
using IdSet = std::set<std::string>;

TEST_F(FindingsTest, CleanChainHasNoFindings) {
  ChainReport r = Analyze({Leaf(), Der(pki_->inter.get())}, Store());
  EXPECT_TRUE(r.findings.empty()) << r.findings[0].id << ": " << r.findings[0].message;
  EXPECT_TRUE(r.validation.trusted);
  EXPECT_TRUE(r.validation.anchored_public);
  EXPECT_THAT(r.chain.path, ElementsAre(0, 1));
  EXPECT_EQ(r.validation.verified_path.size(), 3u);  // leaf, inter, root
}

TEST_F(FindingsTest, Expired) {
  std::string leaf = Leaf([](CertSpec& s) {
    s.not_before_offset_s = -400 * kDay;
    s.not_after_offset_s = -10 * kDay;
  });
  ChainReport r = Analyze({leaf, Der(pki_->inter.get())}, Store());
  EXPECT_EQ(Ids(r), (IdSet{"expired", "untrusted"}));
  EXPECT_THAT(r.validation.reasons, ElementsAre("expired"));
}

TEST_F(FindingsTest, ExpiringSoonPicksTheSmallestThresholdMet) {
  struct Case {
    int days;
    int threshold;
    Severity severity;
  };
  // Year-long certificates: the thresholds decide (30, 14, 7, 3 by default).
  for (Case c : {Case{2, 3, Severity::kCritical}, Case{5, 7, Severity::kCritical},
                 Case{10, 14, Severity::kHigh}, Case{20, 30, Severity::kMedium}}) {
    SCOPED_TRACE(c.days);
    std::string leaf = Leaf([&](CertSpec& s) {
      s.not_before_offset_s = -360 * kDay;
      s.not_after_offset_s = c.days * kDay + 3600;
    });
    ChainReport r = Analyze({leaf, Der(pki_->inter.get())}, Store());
    ASSERT_EQ(Ids(r), (IdSet{"expiring_soon"}));
    EXPECT_EQ(r.findings[0].threshold_days, c.threshold);
    EXPECT_EQ(r.findings[0].days_left, c.days);
    EXPECT_EQ(r.findings[0].severity, c.severity);
  }
}

// leaf_with(validity, left): a leaf valid for |validity| days in all, with
// |left| days (and an hour) of it left.
TEST_F(FindingsTest, ExpiryIsJudgedAgainstTheCertificatesLifetime) {
  auto leaf_with = [&](int validity, double left) {
    return Leaf([&](CertSpec& s) {
      s.not_after_offset_s = static_cast<int64_t>(left * kDay) + 3600;
      s.not_before_offset_s = s.not_after_offset_s - int64_t{validity} * kDay;
    });
  };
  auto analyze = [&](const std::string& leaf) {
    return Analyze({leaf, Der(pki_->inter.get())}, Store());
  };
  // A fresh 90-day certificate (every Let's Encrypt certificate): healthy.
  EXPECT_EQ(Ids(analyze(leaf_with(90, 89))), IdSet{});
  EXPECT_EQ(Ids(analyze(leaf_with(90, 31))), IdSet{});
  ChainReport due = analyze(leaf_with(90, 20));
  ASSERT_EQ(Ids(due), (IdSet{"expiring_soon"}));
  EXPECT_EQ(due.findings[0].severity, Severity::kMedium);
  // A 6-day certificate: no threshold fits its life; a third of it does.
  EXPECT_EQ(Ids(analyze(leaf_with(6, 5))), IdSet{});
  ChainReport short_lived = analyze(leaf_with(6, 1));
  ASSERT_EQ(Ids(short_lived), (IdSet{"expiring_soon"}));
  EXPECT_EQ(short_lived.findings[0].severity, Severity::kCritical);  // under 3 days
  // A 398-day certificate with 120 days left: under a third of its life,
  // no threshold yet: low.
  ChainReport long_lived = analyze(leaf_with(398, 120));
  ASSERT_EQ(Ids(long_lived), (IdSet{"expiring_soon"}));
  EXPECT_EQ(long_lived.findings[0].severity, Severity::kLow);
  EXPECT_EQ(long_lived.findings[0].threshold_days, 133);
  EXPECT_THAT(long_lived.findings[0].message, ::testing::HasSubstr("398-day validity"));
  // The rule off: the thresholds alone, even for a 6-day certificate.
  absl::StatusOr<Policy> off = ParsePolicy("expiry_lifetime_fraction = 0\n", "p");
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_EQ(Ids(Analyze({leaf_with(6, 5), Der(pki_->inter.get())}, Store(), "site.test",
                        TLS1_3_VERSION, *off)),
            (IdSet{"expiring_soon"}));
  EXPECT_FALSE(ParsePolicy("expiry_lifetime_fraction = 2\n", "p").ok());
}

TEST(DaysLeftTest, FloorDivisionOnBothSides) {
  EXPECT_EQ(DaysLeft(86400 * 3, 0), 3);
  EXPECT_EQ(DaysLeft(86400 * 3 - 1, 0), 2);
  EXPECT_EQ(DaysLeft(0, 0), 0);
  EXPECT_EQ(DaysLeft(0, 3600), -1);  // expired an hour ago
  EXPECT_EQ(DaysLeft(0, 86400), -1);
  EXPECT_EQ(DaysLeft(0, 86401), -2);
}

TEST_F(FindingsTest, ThresholdsComeFromThePolicy) {
  absl::StatusOr<Policy> p = ParsePolicy(
      "# stricter\nexpiry_thresholds_days = 365, 14\nexpiry_lifetime_fraction = 0\n"
      "min_rsa_bits=3072\n", "p");
  ASSERT_TRUE(p.ok()) << p.status();
  // Thresholds alone (the lifetime rule off): 365 applies to a 100-day leaf.
  std::string leaf = Leaf([](CertSpec& s) { s.not_after_offset_s = 100 * kDay; });
  ChainReport r = Analyze({leaf, Der(pki_->inter.get())}, Store(), "site.test",
                          TLS1_3_VERSION, *p);
  ASSERT_EQ(Ids(r), (IdSet{"expiring_soon"}));
  EXPECT_EQ(r.findings[0].threshold_days, 365);
  EXPECT_FALSE(ParsePolicy("min_rsa_bits = lots", "p").ok());
  EXPECT_THAT(std::string(ParsePolicy("\nbogus = 1", "policy.conf").status().message()),
              ::testing::HasSubstr("policy.conf:2: unknown key \"bogus\""));
}

TEST_F(FindingsTest, NotYetValid) {
  std::string leaf = Leaf([](CertSpec& s) { s.not_before_offset_s = 2 * kDay; });
  ChainReport r = Analyze({leaf, Der(pki_->inter.get())}, Store());
  EXPECT_EQ(Ids(r), (IdSet{"not_yet_valid", "untrusted"}));
  EXPECT_THAT(r.validation.reasons, ElementsAre("not_yet_valid"));
}

TEST_F(FindingsTest, IntermediateExpired) {
  CertSpec spec;
  spec.common_name = "Expired Intermediate";
  spec.is_ca = true;
  spec.not_before_offset_s = -800 * kDay;
  spec.not_after_offset_s = -1 * kDay;
  spec.serial = 77;
  bssl::UniquePtr<EVP_PKEY> key = testpki::MakeKey(KeyType::kEcP256);
  bssl::UniquePtr<X509> inter =
      testpki::MakeCert(spec, key.get(), pki_->root.get(), pki_->root_key.get());
  std::string leaf = Leaf([](CertSpec&) {}, nullptr, inter.get(), key.get());
  ChainReport r = Analyze({leaf, Der(inter.get())}, Store());
  EXPECT_EQ(Ids(r), (IdSet{"intermediate_expired", "untrusted"}));
}

TEST_F(FindingsTest, SelfSignedLeaf) {
  CertSpec spec;
  spec.common_name = "site.test";
  spec.dns_names = {"site.test"};
  bssl::UniquePtr<X509> leaf = testpki::MakeCert(spec, pki_->leaf_key.get(),
                                                 nullptr, pki_->leaf_key.get());
  ChainReport r = Analyze({Der(leaf.get())}, Store());
  EXPECT_EQ(Ids(r), (IdSet{"self_signed_leaf", "untrusted"}));
  EXPECT_THAT(r.validation.reasons, ElementsAre("self_signed"));
}

TEST_F(FindingsTest, PrivateRootSentAlong) {
  bssl::UniquePtr<EVP_PKEY> key = testpki::MakeKey(KeyType::kEcP256);
  std::string leaf = Leaf([](CertSpec&) {}, nullptr, pki_->other_root.get(),
                          pki_->other_root_key.get());
  ChainReport r = Analyze({leaf, Der(pki_->other_root.get())}, Store());
  EXPECT_EQ(Ids(r), (IdSet{"untrusted", "root_included"}));
  EXPECT_THAT(r.validation.reasons, ElementsAre("untrusted_root"));
  // The same chain is trusted once its root is added as an enterprise root.
  TrustStore store = Store();
  ASSERT_TRUE(store.AddRootsPem(testpki::CertPem(pki_->other_root.get()),
                                "enterprise", false)
                  .ok());
  ChainReport trusted = Analyze({leaf, Der(pki_->other_root.get())}, store);
  EXPECT_EQ(Ids(trusted), (IdSet{"root_included"}));
  EXPECT_FALSE(trusted.validation.anchored_public);
}

TEST_F(FindingsTest, MissingIntermediate) {
  // Not identified (no cache, no AIA): untrusted, unknown issuer; that an
  // intermediate is missing is not claimed.
  ChainReport r = Analyze({Leaf()}, Store());
  EXPECT_EQ(Ids(r), (IdSet{"untrusted"}));
  EXPECT_THAT(r.validation.reasons, ElementsAre("unknown_issuer"));
  EXPECT_TRUE(r.validation.issuer_missing);
  // With the intermediate in the cache, the chain is trusted but incomplete.
  ChainReport cached = Analyze({Leaf()}, Store(true, true));
  EXPECT_EQ(Ids(cached), (IdSet{"incomplete_chain"}));
  EXPECT_TRUE(cached.validation.trusted);
  EXPECT_TRUE(cached.validation.completed_from_cache);
}

TEST_F(FindingsTest, UnknownRootIsNotAMissingIntermediate) {
  // Leaf and intermediate sent, the root unknown (a private PKI scanned
  // without --roots): untrusted, but nothing is missing from what was sent.
  ChainReport r = Analyze({Leaf(), Der(pki_->inter.get())}, TrustStore());
  EXPECT_EQ(Ids(r), (IdSet{"untrusted"}));
  EXPECT_THAT(r.validation.reasons, ElementsAre("unknown_root"));
}

TEST_F(FindingsTest, AnIntermediateGivenAsTrustAnchor) {
  // The organisation trusts its issuing intermediate, not the root above it.
  TrustStore store;
  ASSERT_TRUE(store.AddRootsPem(testpki::CertPem(pki_->inter.get()), "inter.pem", false).ok());
  ChainReport r = Analyze({Leaf(), Der(pki_->inter.get())}, store);
  EXPECT_TRUE(r.validation.trusted) << absl::StrJoin(r.validation.reasons, ",");
  EXPECT_EQ(Ids(r), IdSet{});
  ChainReport alone = Analyze({Leaf()}, store);
  EXPECT_TRUE(alone.validation.trusted);
  EXPECT_EQ(Ids(alone), IdSet{});
}

TEST_F(FindingsTest, ReversedWithDuplicateAndUnrelated) {
  std::string leaf = Leaf([](CertSpec&) {}, nullptr, pki_->inter2.get(),
                          pki_->inter2_key.get());
  std::vector<std::string> served = {leaf, Der(pki_->inter.get()),
                                     Der(pki_->inter2.get()),
                                     Der(pki_->inter2.get()),
                                     Der(pki_->other_root.get())};
  ChainReport r = Analyze(served, Store());
  EXPECT_EQ(Ids(r), (IdSet{"misordered_chain", "duplicate_certificates",
                         "unrelated_certificates"}));
  EXPECT_TRUE(r.validation.trusted);
  // Normalized: leaf, inter2 (served third), inter (served second).
  EXPECT_THAT(r.chain.path, ElementsAre(0, 2, 1));
  EXPECT_THAT(r.chain.duplicates, ElementsAre(3));
  ASSERT_EQ(r.chain.unrelated.size(), 1u);
  EXPECT_EQ(r.chain.certs[r.chain.unrelated[0]].subject_cn, "Private Root");
}

TEST_F(FindingsTest, RootIncluded) {
  ChainReport r = Analyze({Leaf(), Der(pki_->inter.get()), Der(pki_->root.get())},
                          Store());
  EXPECT_EQ(Ids(r), (IdSet{"root_included"}));
  EXPECT_TRUE(r.validation.trusted);
}

TEST_F(FindingsTest, WeakKeys) {
  bssl::UniquePtr<EVP_PKEY> rsa1024 = testpki::MakeKey(KeyType::kRsa1024);
  ChainReport r =
      Analyze({Leaf([](CertSpec&) {}, rsa1024.get()), Der(pki_->inter.get())}, Store());
  // Clients refuse an RSA key under 2048 bits (the CA/Browser Forum's
  // floor, OpenSSL's default security level): untrusted too.
  EXPECT_EQ(Ids(r), (IdSet{"untrusted", "weak_key"}));
  EXPECT_THAT(r.validation.reasons, ElementsAre("weak_key"));
  EXPECT_THAT(r.findings[1].message, ::testing::HasSubstr("RSA-1024"));
  bssl::UniquePtr<EVP_PKEY> p224 = testpki::MakeKey(KeyType::kEcP224);
  ChainReport ec =
      Analyze({Leaf([](CertSpec&) {}, p224.get()), Der(pki_->inter.get())}, Store());
  EXPECT_EQ(Ids(ec), (IdSet{"weak_key"}));
  bssl::UniquePtr<EVP_PKEY> rsa2048 = testpki::MakeKey(KeyType::kRsa2048);
  ChainReport ok =
      Analyze({Leaf([](CertSpec&) {}, rsa2048.get()), Der(pki_->inter.get())}, Store());
  EXPECT_EQ(Ids(ok), IdSet{});
}

TEST_F(FindingsTest, KeysBoringSslCannotUse) {
  // x509/testdata/README.md: self-signed P-192 and brainpoolP256r1 leaves.
  for (const char* path : {"x509/testdata/p192_leaf.pem", "x509/testdata/brainpool_leaf.pem"}) {
    bssl::UniquePtr<BIO> bio(BIO_new_file(path, "r"));
    ASSERT_TRUE(bio) << path;
    bssl::UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(cert) << path;
    ChainReport r = Analyze({Der(cert.get())}, Store());
    EXPECT_TRUE(Ids(r).count("unsupported_key")) << path;
    const bool p192 = std::string(path).find("p192") != std::string::npos;
    EXPECT_EQ(Ids(r).count("weak_key"), p192 ? 1u : 0u) << path;
    for (const Finding& f : r.findings) {
      if (f.id == "unsupported_key") {
        EXPECT_THAT(f.message, ::testing::HasSubstr(p192 ? "EC key (P-192)" : "EC key (brainpoolP256r1)"));
      }
    }
  }
}

TEST_F(FindingsTest, WeakSignatures) {
  // SHA-1 and MD5 need an RSA issuer.
  bssl::UniquePtr<EVP_PKEY> rsa_key = testpki::MakeKey(KeyType::kRsa2048);
  CertSpec spec;
  spec.common_name = "RSA Intermediate";
  spec.is_ca = true;
  spec.serial = 91;
  bssl::UniquePtr<X509> rsa_inter =
      testpki::MakeCert(spec, rsa_key.get(), pki_->root.get(), pki_->root_key.get());
  for (const EVP_MD* md : {EVP_sha1(), EVP_md5()}) {
    SCOPED_TRACE(md == EVP_md5() ? "MD5" : "SHA-1");
    std::string leaf = Leaf([&](CertSpec& s) { s.digest = md; }, nullptr,
                            rsa_inter.get(), rsa_key.get());
    ChainReport r = Analyze({leaf, Der(rsa_inter.get())}, Store());
    ASSERT_TRUE(Ids(r).count("weak_signature")) << r.findings.size();
    const Finding& f = *std::find_if(
        r.findings.begin(), r.findings.end(),
        [](const Finding& x) { return x.id == "weak_signature"; });
    EXPECT_EQ(f.severity, md == EVP_md5() ? Severity::kCritical : Severity::kHigh);
    // Clients refuse MD5 and SHA-1 signatures below the anchor: untrusted.
    EXPECT_EQ(Ids(r), (IdSet{"weak_signature", "untrusted"}));
    EXPECT_THAT(r.validation.reasons, ElementsAre("weak_signature"));
  }
}

TEST_F(FindingsTest, LongValidityOnlyForPubliclyTrustedLeaves) {
  std::string leaf = Leaf([](CertSpec& s) { s.not_after_offset_s = 800 * kDay; });
  ChainReport r = Analyze({leaf, Der(pki_->inter.get())}, Store(/*is_public=*/true));
  EXPECT_EQ(Ids(r), (IdSet{"long_validity"}));
  ChainReport enterprise =
      Analyze({leaf, Der(pki_->inter.get())}, Store(/*is_public=*/false));
  EXPECT_EQ(Ids(enterprise), IdSet{});
}

TEST_F(FindingsTest, HostnameMismatch) {
  ChainReport r = Analyze({Leaf(), Der(pki_->inter.get())}, Store(), "other.test");
  EXPECT_EQ(Ids(r), (IdSet{"hostname_mismatch", "untrusted"}));
  EXPECT_THAT(r.validation.reasons, ElementsAre("name_mismatch"));
  // IP targets have no name to match.
  ChainReport ip = Analyze({Leaf(), Der(pki_->inter.get())}, Store(), "");
  EXPECT_EQ(Ids(ip), IdSet{});
}

TEST_F(FindingsTest, MissingSan) {
  std::string leaf = Leaf([](CertSpec& s) { s.dns_names.clear(); });
  ChainReport r = Analyze({leaf, Der(pki_->inter.get())}, Store(), "");
  EXPECT_EQ(Ids(r), (IdSet{"missing_san"}));
}

TEST_F(FindingsTest, CaFlagOnLeaf) {
  std::string leaf = Leaf([](CertSpec& s) { s.ca_leaf = true; });
  ChainReport r = Analyze({leaf, Der(pki_->inter.get())}, Store());
  EXPECT_TRUE(Ids(r).count("ca_leaf"));
  for (const std::string& id : Ids(r)) {
    EXPECT_TRUE(id == "ca_leaf" || id == "untrusted") << id;
  }
}

TEST_F(FindingsTest, LeafKeyUsageThatForbidsTls) {
  std::string leaf = Leaf([](CertSpec& s) { s.key_usage = "critical,keyCertSign"; });
  ChainReport r = Analyze({leaf, Der(pki_->inter.get())}, Store());
  EXPECT_TRUE(Ids(r).count("leaf_key_usage"));
  // The default (digitalSignature, keyEncipherment) and keyEncipherment
  // alone on an EC key: only the latter is flagged.
  EXPECT_FALSE(Ids(Analyze({Leaf(), Der(pki_->inter.get())}, Store())).count("leaf_key_usage"));
  std::string transport = Leaf([](CertSpec& s) { s.key_usage = "critical,keyEncipherment"; });
  EXPECT_TRUE(Ids(Analyze({transport, Der(pki_->inter.get())}, Store())).count("leaf_key_usage"));
}

TEST_F(FindingsTest, WrongExtendedKeyUsage) {
  std::string leaf = Leaf([](CertSpec& s) { s.ext_key_usage = "clientAuth"; });
  ChainReport r = Analyze({leaf, Der(pki_->inter.get())}, Store());
  EXPECT_EQ(Ids(r), (IdSet{"untrusted"}));
  EXPECT_THAT(r.validation.reasons, ElementsAre("wrong_eku"));
}

TEST_F(FindingsTest, DeprecatedTls) {
  ChainReport r = Analyze({Leaf(), Der(pki_->inter.get())}, Store(), "site.test",
                          TLS1_VERSION);
  EXPECT_EQ(Ids(r), (IdSet{"deprecated_tls"}));
  ChainReport r11 = Analyze({Leaf(), Der(pki_->inter.get())}, Store(), "site.test",
                            TLS1_1_VERSION);
  EXPECT_EQ(Ids(r11), (IdSet{"deprecated_tls"}));
}

TEST_F(FindingsTest, UnparsableCertificates) {
  ChainReport r = Analyze({"not a certificate"}, Store());
  EXPECT_EQ(Ids(r), (IdSet{"unparsable_certificate"}));
  EXPECT_FALSE(r.chain.has_leaf());
  // A bad extra after a good chain is reported, and the chain still stands.
  ChainReport extra = Analyze({Leaf(), Der(pki_->inter.get()), "\x30\x03\x02\x01"},
                              Store());
  EXPECT_EQ(Ids(extra), (IdSet{"unparsable_certificate"}));
  EXPECT_TRUE(extra.validation.trusted);
}

}  // namespace
}  // namespace ers
