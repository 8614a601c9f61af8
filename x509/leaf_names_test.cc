// ReadCertificateNames against certificates made by the test PKI, checked
// against the full parser; malformed input gives empty lists.
#include "x509/leaf_names.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/test_pki.h"
#include "x509/certificate.h"

namespace ers {
namespace {

TEST(LeafNamesTest, SameNamesAsTheFullParser) {
  bssl::UniquePtr<EVP_PKEY> key = testpki::MakeKey(testpki::KeyType::kEcP256);
  testpki::CertSpec spec;
  spec.common_name = "www.names.test";
  spec.dns_names = {"www.names.test", "*.names.test", "mail.names.test"};
  spec.ip_addresses = {"127.0.0.1"};
  bssl::UniquePtr<X509> cert = testpki::MakeCert(spec, key.get(), nullptr, key.get());
  const std::string der = testpki::Der(cert.get());
  CertificateNames names = ReadCertificateNames(der);
  absl::StatusOr<Certificate> full = ParseCertificate(der);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(names.dns_names, full->dns_names);
  EXPECT_EQ(names.common_name, "www.names.test");
  EXPECT_EQ(ReadCertificateNames(der, 2).dns_names.size(), 2u);
  // No SAN at all: the CN alone.
  testpki::CertSpec bare;
  bare.common_name = "bare.names.test";
  bssl::UniquePtr<X509> old = testpki::MakeCert(bare, key.get(), nullptr, key.get());
  names = ReadCertificateNames(testpki::Der(old.get()));
  EXPECT_TRUE(names.dns_names.empty());
  EXPECT_EQ(names.common_name, "bare.names.test");
}

TEST(LeafNamesTest, MalformedInputGivesNothing) {
  bssl::UniquePtr<EVP_PKEY> key = testpki::MakeKey(testpki::KeyType::kEcP256);
  testpki::CertSpec spec;
  spec.common_name = "x.names.test";
  spec.dns_names = {"x.names.test"};
  bssl::UniquePtr<X509> cert = testpki::MakeCert(spec, key.get(), nullptr, key.get());
  const std::string der = testpki::Der(cert.get());
  for (size_t cut = 0; cut < der.size(); cut += 7) {
    CertificateNames names = ReadCertificateNames(der.substr(0, cut));
    EXPECT_TRUE(names.dns_names.empty()) << cut;
    EXPECT_EQ(names.common_name, "") << cut;
  }
  EXPECT_TRUE(ReadCertificateNames("").dns_names.empty());
  EXPECT_TRUE(ReadCertificateNames("not DER at all").dns_names.empty());
}

}  // namespace
}  // namespace ers
