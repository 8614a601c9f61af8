// The forms a caIssuers body comes in, and what the fetcher refuses before
// any packet is sent. Fetches over HTTP (DER, PKCS#7, a hanging server, 10
// MiB, a redirect to an excluded address, the disk cache) are checked
// against nginx on loopback by tests/aia_test.
#include "aia/issuer_fetcher.h"
#include "aia/curl_downloader.h"

#include <openssl/bytestring.h>
#include <openssl/pkcs7.h>

#include <cstdlib>
#include <string>

#include "base/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_pki.h"

namespace ers {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::string Pkcs7Of(const std::vector<X509*>& certs) {
  bssl::UniquePtr<STACK_OF(X509)> stack(sk_X509_new_null());
  for (X509* c : certs) {
    X509_up_ref(c);
    sk_X509_push(stack.get(), c);
  }
  bssl::ScopedCBB cbb;
  EXPECT_TRUE(CBB_init(cbb.get(), 0));
  EXPECT_TRUE(PKCS7_bundle_certificates(cbb.get(), stack.get()));
  return std::string(reinterpret_cast<const char*>(CBB_data(cbb.get())), CBB_len(cbb.get()));
}

std::string PemOf(const std::string& der, const char* label) {
  const std::string b64 = Base64Encode(der);
  std::string out = std::string("-----BEGIN ") + label + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END " + label + "-----\n";
}

TEST(IssuerCertificatesTest, ReadsEveryFormAndRefusesTheRest) {
  testpki::Chain chain = testpki::MakeChain("aia.test", testpki::KeyType::kEcP256);
  const std::string inter = testpki::Der(chain.intermediate.get());
  const std::string root = testpki::Der(chain.root.get());

  EXPECT_THAT(*ParseIssuerCertificates(inter), ElementsAre(inter));
  const std::string p7 = Pkcs7Of({chain.intermediate.get(), chain.root.get()});
  EXPECT_THAT(*ParseIssuerCertificates(p7), UnorderedElementsAre(inter, root));
  EXPECT_THAT(*ParseIssuerCertificates(PemOf(p7, "PKCS7")), UnorderedElementsAre(inter, root));
  EXPECT_THAT(*ParseIssuerCertificates(testpki::CertPem(chain.intermediate.get())),
              ElementsAre(inter));

  for (const std::string& bad :
       {std::string(), std::string("<html>not found</html>"), inter + "x",
        inter.substr(0, inter.size() / 2), std::string("-----BEGIN PKCS7-----\nAAAA\n"),
        Pkcs7Of({})}) {
    EXPECT_FALSE(ParseIssuerCertificates(bad).ok()) << bad.size();
  }
}

TEST(IssuerFetcherTest, RefusesSchemesAndExcludedAddressesWithoutSendingAnything) {
  int calls = 0;
  IssuerFetcherOptions options;
  options.downloader = NewCurlIssuerDownloader();
  options.excluded = [&calls](const IpAddress& a) {
    ++calls;
    return a.ToString() == "127.0.0.1";
  };
  auto fetcher = IssuerFetcher::Create(options);
  ASSERT_TRUE(fetcher.ok());
  for (const char* url : {"ldap://ldap.example.com/cn=CA?cACertificate", "file:///etc/passwd",
                          "ftp://127.0.0.1/ca.der"}) {
    absl::StatusOr<std::vector<std::string>> r = (*fetcher)->Fetch(url);
    EXPECT_TRUE(absl::IsPermissionDenied(r.status())) << url;
    EXPECT_THAT(r.status().message(), HasSubstr("only http and https"));
  }
  // Port 9 of an excluded loopback address: refused at the socket, so
  // nothing answers and nothing is sent.
  absl::StatusOr<std::vector<std::string>> r = (*fetcher)->Fetch("http://127.0.0.1:9/ca.der");
  EXPECT_TRUE(absl::IsPermissionDenied(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("127.0.0.1, which is excluded"));
  EXPECT_EQ(calls, 1);
  // Asked again: the answer is remembered, not fetched again.
  r = (*fetcher)->Fetch("http://127.0.0.1:9/ca.der");
  EXPECT_TRUE(absl::IsPermissionDenied(r.status()));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ((*fetcher)->stats().refused, 4u);
  EXPECT_EQ((*fetcher)->stats().cache_hits, 1u);
  // Caches only: nothing there yet.
  EXPECT_TRUE(absl::IsUnavailable((*fetcher)->Fetch("http://127.0.0.2:9/x", false).status()));
  // Without a downloader nothing is fetched.
  auto offline = IssuerFetcher::Create(IssuerFetcherOptions());
  ASSERT_TRUE(offline.ok());
  EXPECT_TRUE(absl::IsUnavailable((*offline)->Fetch("http://127.0.0.2:9/x").status()));
}

}  // namespace
}  // namespace ers
