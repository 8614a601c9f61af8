// Parsing: every field of a rich certificate, odd but valid encodings, and
// malformed input (an error value, never a crash).
#include "x509/certificate.h"

#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <string>

#include "x509/certificate_cache.h"
#include "x509/chain.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_pki.h"

namespace ers {
namespace {

using testpki::CertSpec;
using testpki::KeyType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

void AddExt(X509* cert, int nid, const char* value) {
  // Zeroed first: X509V3_set_ctx leaves the config database pointer unset.
  X509V3_CTX ctx;
  memset(&ctx, 0, sizeof(ctx));
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  bssl::UniquePtr<X509_EXTENSION> ext(
      X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  ASSERT_TRUE(ext) << value;
  ASSERT_TRUE(X509_add_ext(cert, ext.get(), -1));
}

void AddRawExt(X509* cert, const char* oid, const std::string& der) {
  bssl::UniquePtr<ASN1_OBJECT> obj(OBJ_txt2obj(oid, 1));
  bssl::UniquePtr<ASN1_OCTET_STRING> value(ASN1_OCTET_STRING_new());
  ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const uint8_t*>(der.data()),
                        static_cast<int>(der.size()));
  bssl::UniquePtr<X509_EXTENSION> ext(
      X509_EXTENSION_create_by_OBJ(nullptr, obj.get(), 0, value.get()));
  ASSERT_TRUE(X509_add_ext(cert, ext.get(), -1));
}

class CertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = testpki::MakeKey(KeyType::kEcP256);
  }
  // Resign signs |cert| again after changes.
  std::string Resign(X509* cert) {
    EXPECT_TRUE(X509_sign(cert, key_.get(), EVP_sha256()));
    return testpki::Der(cert);
  }
  bssl::UniquePtr<X509> Base(CertSpec spec = CertSpec()) {
    if (spec.common_name.empty()) spec.common_name = "rich.test";
    return testpki::MakeCert(spec, key_.get(), nullptr, key_.get());
  }
  bssl::UniquePtr<EVP_PKEY> key_;
};

TEST_F(CertificateTest, EveryField) {
  CertSpec spec;
  spec.common_name = "rich.test";
  spec.organization = "Rich Org";
  spec.dns_names = {"rich.test", "www.rich.test"};
  spec.ip_addresses = {"192.0.2.7", "2001:db8::1"};
  spec.serial = 0x1234;
  spec.not_before_offset_s = -1000;
  spec.not_after_offset_s = 86400 * 10;
  bssl::UniquePtr<X509> cert = Base(spec);
  AddExt(cert.get(), NID_info_access,
         "OCSP;URI:http://ocsp.rich.test,caIssuers;URI:http://ca.rich.test/i.crt");
  AddExt(cert.get(), NID_crl_distribution_points, "URI:http://crl.rich.test/c.crl");
  // certificatePolicies { policyIdentifier 2.23.140.1.2.1 } (the config
  // syntax for it needs a configuration database).
  AddRawExt(cert.get(), "2.5.29.32",
            std::string("\x30\x0a\x30\x08\x06\x06\x67\x81\x0c\x01\x02\x01", 12));
  // Must-staple: TLS Feature = SEQUENCE { INTEGER 5 }.
  AddRawExt(cert.get(), "1.3.6.1.5.5.7.1.24", std::string("\x30\x03\x02\x01\x05", 5));
  // Two embedded SCTs: OCTET STRING { u16 list { u16 sct, u16 sct } }.
  std::string list = std::string("\x00\x0a", 2) + std::string("\x00\x03" "abc", 5) +
                     std::string("\x00\x03" "def", 5);
  AddRawExt(cert.get(), "1.3.6.1.4.1.11129.2.4.2",
            std::string("\x04", 1) + static_cast<char>(list.size()) + list);
  std::string der = Resign(cert.get());

  absl::StatusOr<Certificate> c = ParseCertificate(der);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->subject, "CN=rich.test,O=Rich Org");
  EXPECT_EQ(c->subject_cn, "rich.test");
  EXPECT_EQ(c->subject_org, "Rich Org");
  EXPECT_EQ(c->issuer, c->subject);
  EXPECT_EQ(c->serial_hex, "1234");
  EXPECT_NEAR(c->not_after_unix - c->not_before_unix, 86400 * 10 + 1000, 2);
  EXPECT_EQ(c->key_type, ers::KeyType::kEc);
  EXPECT_EQ(c->key_curve, "P-256");
  EXPECT_EQ(c->key_bits, 256);
  EXPECT_EQ(c->signature_algorithm, "ecdsa-with-SHA256");
  EXPECT_EQ(c->signature_digest, Digest::kSha256);
  EXPECT_THAT(c->dns_names, ElementsAre("rich.test", "www.rich.test"));
  EXPECT_THAT(c->ip_addresses, ElementsAre("192.0.2.7", "2001:db8:0:0:0:0:0:1"));
  EXPECT_TRUE(c->has_basic_constraints);
  EXPECT_FALSE(c->is_ca);
  EXPECT_THAT(c->key_usage, ElementsAre("digitalSignature", "keyEncipherment"));
  EXPECT_THAT(c->extended_key_usage, ElementsAre("serverAuth"));
  EXPECT_THAT(c->ocsp_urls, ElementsAre("http://ocsp.rich.test"));
  EXPECT_THAT(c->ca_issuer_urls, ElementsAre("http://ca.rich.test/i.crt"));
  EXPECT_THAT(c->crl_urls, ElementsAre("http://crl.rich.test/c.crl"));
  EXPECT_THAT(c->policy_oids, ElementsAre("2.23.140.1.2.1"));
  EXPECT_TRUE(c->must_staple);
  EXPECT_EQ(c->embedded_sct_count, 2);
  EXPECT_FALSE(c->subject_key_id.empty());
  EXPECT_EQ(c->sha256_hex.size(), 64u);
  EXPECT_EQ(c->sha1_hex.size(), 40u);
  EXPECT_EQ(c->spki_sha256_hex.size(), 64u);
  EXPECT_TRUE(c->self_issued);
  EXPECT_TRUE(c->self_signed);
}

TEST_F(CertificateTest, KeyTypes) {
  struct Case {
    KeyType type;
    ers::KeyType parsed;
    int bits;
    const char* curve;
  };
  for (Case k : {Case{KeyType::kRsa2048, ers::KeyType::kRsa, 2048, ""},
                 Case{KeyType::kRsa1024, ers::KeyType::kRsa, 1024, ""},
                 Case{KeyType::kEcP384, ers::KeyType::kEc, 384, "P-384"},
                 Case{KeyType::kEcP224, ers::KeyType::kEc, 224, "P-224"}}) {
    bssl::UniquePtr<EVP_PKEY> key = testpki::MakeKey(k.type);
    CertSpec spec;
    spec.common_name = "k.test";
    bssl::UniquePtr<X509> cert = testpki::MakeCert(spec, key.get(), nullptr, key.get());
    absl::StatusOr<Certificate> c = ParseCertificate(testpki::Der(cert.get()));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->key_type, k.parsed);
    EXPECT_EQ(c->key_bits, k.bits);
    EXPECT_EQ(c->key_curve, k.curve);
  }
}

// PemFileDer returns the DER of the first certificate in the PEM file at
// |path| (relative to the runfiles root), "" if there is none.
std::string PemFileDer(const char* path) {
  bssl::UniquePtr<BIO> bio(BIO_new_file(path, "r"));
  if (!bio) return "";
  bssl::UniquePtr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  return cert ? testpki::Der(cert.get()) : "";
}

TEST_F(CertificateTest, KeysBoringSslCannotParse) {
  // Read from the SubjectPublicKeyInfo itself (x509/testdata/README.md).
  struct Case {
    const char* path;
    int bits;
    const char* curve;
  };
  for (Case k : {Case{"x509/testdata/p192_leaf.pem", 192, "P-192"},
                 Case{"x509/testdata/brainpool_leaf.pem", 256, "brainpoolP256r1"}}) {
    const std::string der = PemFileDer(k.path);
    ASSERT_FALSE(der.empty()) << k.path;
    absl::StatusOr<Certificate> c = ParseCertificate(der);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_FALSE(c->key_supported) << k.path;
    EXPECT_EQ(c->key_type, ers::KeyType::kEc) << k.path;
    EXPECT_EQ(c->key_bits, k.bits) << k.path;
    EXPECT_EQ(c->key_curve, k.curve) << k.path;
  }
  bssl::UniquePtr<EVP_PKEY> key = testpki::MakeKey(KeyType::kEcP256);
  CertSpec spec;
  spec.common_name = "k.test";
  bssl::UniquePtr<X509> cert = testpki::MakeCert(spec, key.get(), nullptr, key.get());
  EXPECT_TRUE(ParseCertificate(testpki::Der(cert.get()))->key_supported);
}

TEST_F(CertificateTest, NonUtf8StringTypes) {
  bssl::UniquePtr<X509> cert = Base();
  X509_NAME* name = X509_NAME_new();
  // "Zürich" as BMPString (UTF-16BE) and "café" as TeletexString (Latin-1).
  const uint8_t bmp[] = {0, 'Z', 0, 0xfc, 0, 'r', 0, 'i', 0, 'c', 0, 'h'};
  const uint8_t t61[] = {'c', 'a', 'f', 0xe9};
  ASSERT_TRUE(X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_BMPSTRING,
                                         bmp, sizeof(bmp), -1, 0));
  ASSERT_TRUE(X509_NAME_add_entry_by_NID(name, NID_organizationName,
                                         V_ASN1_T61STRING, t61, sizeof(t61), -1, 0));
  ASSERT_TRUE(X509_set_subject_name(cert.get(), name));
  X509_NAME_free(name);
  absl::StatusOr<Certificate> c = ParseCertificate(Resign(cert.get()));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->subject_cn, "Z\xc3\xbcrich");
  EXPECT_EQ(c->subject_org, "caf\xc3\xa9");
  EXPECT_FALSE(c->self_issued);  // the subject changed, the issuer did not
}

TEST_F(CertificateTest, EmptySubjectWithSanOnly) {
  CertSpec spec;
  spec.common_name = "placeholder";
  spec.dns_names = {"san-only.test"};
  bssl::UniquePtr<X509> cert = Base(spec);
  bssl::UniquePtr<X509_NAME> empty(X509_NAME_new());
  ASSERT_TRUE(X509_set_subject_name(cert.get(), empty.get()));
  absl::StatusOr<Certificate> c = ParseCertificate(Resign(cert.get()));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->subject, "");
  EXPECT_EQ(c->subject_cn, "");
  EXPECT_THAT(c->dns_names, ElementsAre("san-only.test"));
}

TEST_F(CertificateTest, HugeAndNegativeSerials) {
  bssl::UniquePtr<X509> cert = Base();
  BIGNUM* raw = nullptr;
  ASSERT_TRUE(BN_hex2bn(&raw, "7fffffffffffffffffffffffffffffffffffffff"));
  bssl::UniquePtr<BIGNUM> bn(raw);
  ASSERT_TRUE(BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())));
  absl::StatusOr<Certificate> huge = ParseCertificate(Resign(cert.get()));
  ASSERT_TRUE(huge.ok()) << huge.status();
  EXPECT_EQ(huge->serial_hex, "7fffffffffffffffffffffffffffffffffffffff");

  ASSERT_TRUE(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), -42));
  absl::StatusOr<Certificate> negative = ParseCertificate(Resign(cert.get()));
  ASSERT_TRUE(negative.ok()) << negative.status();
  EXPECT_EQ(negative->serial_hex, "-2a");
}

TEST_F(CertificateTest, ManySans) {
  CertSpec spec;
  spec.common_name = "many.test";
  for (int i = 0; i < 150; ++i) spec.dns_names.push_back("host" + std::to_string(i) + ".many.test");
  bssl::UniquePtr<X509> cert = Base(spec);
  absl::StatusOr<Certificate> c = ParseCertificate(testpki::Der(cert.get()));
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->dns_names.size(), 150u);
  EXPECT_EQ(c->dns_names[149], "host149.many.test");
}

TEST_F(CertificateTest, MalformedInputIsAnError) {
  std::string good = testpki::Der(Base().get());
  const std::string kCases[] = {
      "",
      "garbage",
      good.substr(0, good.size() / 2),       // truncated
      good + "x",                            // trailing data
      std::string("\x30\x82\xff\xff", 4),    // length past the end
      std::string(5000, '\x30'),             // nested nonsense
  };
  for (const std::string& der : kCases) {
    absl::StatusOr<Certificate> c = ParseCertificate(der);
    EXPECT_FALSE(c.ok()) << der.size();
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_THAT(std::string(ParseCertificate(good + "x").status().message()),
              HasSubstr("trailing data"));
  // Every single-byte corruption of a real certificate: parse or error,
  // never a crash.
  for (size_t i = 0; i < good.size(); i += 3) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    (void)ParseCertificate(bad);
  }
}

}  // namespace
}  // namespace ers

namespace ers {
namespace {

TEST(CertificateCacheTest, ParsesEachDistinctDerOnce) {
  testpki::Chain chain = testpki::MakeChain("cache.test", testpki::KeyType::kEcP256);
  const std::string leaf = testpki::Der(chain.leaf.get());
  const std::string intermediate = testpki::Der(chain.intermediate.get());
  CertificateCache cache;
  bssl::UniquePtr<X509> x1, x2;
  auto a = cache.Parse(leaf, &x1);
  auto b = cache.Parse(leaf, &x2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());  // the same parsed object
  EXPECT_EQ(x1.get(), x2.get());  // one X509, two references
  EXPECT_EQ((*a)->subject_cn, "cache.test");
  ASSERT_TRUE(cache.Parse(intermediate, nullptr).ok());
  EXPECT_EQ(cache.num_parsed(), 2u);
  // A bad DER is an error each time, parsed once.
  EXPECT_FALSE(cache.Parse("not DER", nullptr).ok());
  EXPECT_FALSE(cache.Parse("not DER", nullptr).ok());
  EXPECT_EQ(cache.num_parsed(), 3u);
  // Normalizing through the cache gives the same chain as without it.
  NormalizedChain with = NormalizeChain({leaf, intermediate}, &cache);
  NormalizedChain without = NormalizeChain({leaf, intermediate});
  EXPECT_EQ(with.path, without.path);
  EXPECT_EQ(with.leaf().sha256_hex, without.leaf().sha256_hex);
  EXPECT_EQ(cache.num_parsed(), 3u);
  // A full cache starts over rather than growing.
  CertificateCache small(1);
  ASSERT_TRUE(small.Parse(leaf, nullptr).ok());
  ASSERT_TRUE(small.Parse(intermediate, nullptr).ok());
  ASSERT_TRUE(small.Parse(leaf, nullptr).ok());
  EXPECT_EQ(small.num_parsed(), 3u);
}

}  // namespace
}  // namespace ers
