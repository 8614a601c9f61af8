#include "enroll/csr.h"

#include <openssl/pem.h>

#include "enroll/key.h"
#include "gtest/gtest.h"

namespace ers {
namespace {

TEST(RequestNamesTest, CommonNameJoinsTheSansOnceAndCaseFolds) {
  absl::StatusOr<RequestNames> names =
      ParseRequestNames("Web.Example.TEST", "web.example.test, *.api.example.test,10.0.0.1,::1");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(names->common_name, "web.example.test");
  EXPECT_EQ(names->dns, (std::vector<std::string>{"web.example.test", "*.api.example.test"}));
  EXPECT_EQ(NameStrings(*names), (std::vector<std::string>{"web.example.test",
                                                           "*.api.example.test", "10.0.0.1",
                                                           "::1"}));
  names = ParseRequestNames("192.0.2.7", "");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(names->common_name, "192.0.2.7");
  EXPECT_TRUE(names->dns.empty());
}

TEST(RequestNamesTest, MalformedNamesAreRefusedByName) {
  for (const auto& [cn, sans, says] : std::vector<std::tuple<const char*, const char*, const char*>>{
           {"", "", "common name is empty"},
           {"bad name.test", "", "bad name.test"},
           {"ok.test", "a..test", "a..test"},
           {"ok.test", "a.*.test", "wildcard is only the whole leftmost label"},
           {"*.test", "", "two labels"},
           {"ok.test", "ok.test,,x.test", "empty"},
       }) {
    absl::StatusOr<RequestNames> names = ParseRequestNames(cn, sans);
    ASSERT_FALSE(names.ok()) << cn << " " << sans;
    EXPECT_NE(names.status().message().find(says), std::string::npos) << names.status();
  }
}

class CsrRoundTripTest : public ::testing::TestWithParam<EnrollKeyType> {};

TEST_P(CsrRoundTripTest, ReadsBackWhatWasBuilt) {
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> key = GenerateKey(GetParam());
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_EQ(DescribeKey(key->get()), EnrollKeyTypeName(GetParam()));
  absl::StatusOr<RequestNames> names =
      ParseRequestNames("svc.example.test", "alt.example.test,127.0.0.9,2001:db8::5");
  ASSERT_TRUE(names.ok());
  absl::StatusOr<std::string> pem = BuildCsr(*names, key->get());
  ASSERT_TRUE(pem.ok()) << pem.status();
  absl::StatusOr<CsrInfo> info = ParseCsr(*pem);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->names, *names);
  EXPECT_EQ(info->key, EnrollKeyTypeName(GetParam()));
  EXPECT_TRUE(info->other_extensions.empty());
  EXPECT_EQ(info->der_sha256.size(), 64u);
  // The key's PEM reads back to the same key.
  absl::StatusOr<std::string> key_pem = PrivateKeyPem(key->get());
  ASSERT_TRUE(key_pem.ok());
  EXPECT_NE(key_pem->find("BEGIN PRIVATE KEY"), std::string::npos);
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> again = ReadPrivateKeyPem(*key_pem);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(EVP_PKEY_cmp(again->get(), key->get()), 1);
}

INSTANTIATE_TEST_SUITE_P(EveryKeyType, CsrRoundTripTest,
                         ::testing::Values(EnrollKeyType::kEcP256, EnrollKeyType::kEcP384, EnrollKeyType::kRsa2048,
                                           EnrollKeyType::kRsa3072));

TEST(CsrTest, ATamperedRequestDoesNotVerify) {
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> key = GenerateKey(EnrollKeyType::kEcP256);
  ASSERT_TRUE(key.ok());
  absl::StatusOr<RequestNames> names = ParseRequestNames("a.example.test", "");
  ASSERT_TRUE(names.ok());
  absl::StatusOr<std::string> pem = BuildCsr(*names, key->get());
  ASSERT_TRUE(pem.ok());
  // Re-sign the request's body with another key but keep the first key in
  // it: the signature no longer matches the key the CSR carries.
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem->data(), pem->size()));
  bssl::UniquePtr<X509_REQ> req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(req);
  absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> other = GenerateKey(EnrollKeyType::kEcP256);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(X509_REQ_sign(req.get(), other->get(), EVP_sha256()));
  ASSERT_TRUE(X509_REQ_set_pubkey(req.get(), key->get()));
  bssl::UniquePtr<BIO> out(BIO_new(BIO_s_mem()));
  ASSERT_TRUE(PEM_write_bio_X509_REQ(out.get(), req.get()));
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(out.get(), &data, &len);
  absl::StatusOr<CsrInfo> info = ParseCsr(std::string(reinterpret_cast<const char*>(data), len));
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.status().message().find("signature does not verify"), std::string::npos);
}

TEST(CsrTest, GarbageIsRefusedWithAReason) {
  EXPECT_FALSE(ParseCsr("").ok());
  EXPECT_FALSE(ParseCsr("hello").ok());
  EXPECT_FALSE(ParseCsr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE "
                        "REQUEST-----\n")
                   .ok());
  EXPECT_FALSE(ParseCsr(std::string(kMaxCsrBytes + 1, 'a')).ok());
  EXPECT_FALSE(ParseEnrollKeyType("rsa-1024").ok());
}

}  // namespace
}  // namespace ers
