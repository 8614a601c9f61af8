#include "clm/certificate_requests.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <string>

#include "enroll/csr.h"
#include "enroll/key.h"
#include "gtest/gtest.h"
#include "tests/test_pki.h"

namespace ers {
namespace {

std::string TempPath(const char* name) {
  const char* dir = getenv("TEST_TMPDIR");
  std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  unlink(path.c_str());
  return path;
}

constexpr const char* kPolicy = R"(
# the scanner may have names under example.test and loopback addresses
token:scanner  dns=example.test ip=127.0.0.0/8 keys=ec-p256,rsa-2048 days=30
token:held     dns=example.test approval=hold
)";

class EnrollmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_key_ = testpki::MakeKey(testpki::KeyType::kEcP256);
    testpki::CertSpec spec;
    spec.common_name = "ers test issuing CA";
    spec.is_ca = true;
    ca_ = testpki::MakeCert(spec, ca_key_.get(), nullptr, ca_key_.get());
    absl::StatusOr<std::unique_ptr<Issuer>> issuer =
        Issuer::Load(testpki::CertPem(ca_.get()), testpki::KeyPem(ca_key_.get()));
    ASSERT_TRUE(issuer.ok()) << issuer.status();
    issuer_ = *std::move(issuer);
    absl::StatusOr<IssuingPolicy> policy = IssuingPolicy::Parse(kPolicy, "policy");
    ASSERT_TRUE(policy.ok()) << policy.status();
    policy_ = *std::move(policy);
    absl::StatusOr<std::unique_ptr<ClmStore>> store = ClmStore::Open(TempPath("enroll.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  // Csr builds a request for |cn| and |sans| with a new key of |type|.
  std::string Csr(const char* cn, const char* sans, EnrollKeyType type = EnrollKeyType::kEcP256) {
    absl::StatusOr<RequestNames> names = ParseRequestNames(cn, sans);
    EXPECT_TRUE(names.ok()) << names.status();
    absl::StatusOr<bssl::UniquePtr<EVP_PKEY>> key = GenerateKey(type);
    EXPECT_TRUE(key.ok());
    absl::StatusOr<std::string> csr = BuildCsr(*names, key->get());
    EXPECT_TRUE(csr.ok());
    return *csr;
  }

  std::pair<unsigned, nlohmann::json> Submit(const std::string& client, const std::string& id,
                                             const std::string& csr, int days = 0) {
    nlohmann::json body = {{"request_id", id}, {"csr", csr}};
    if (days != 0) body["days"] = days;
    return SubmitCertificateRequest(store_.get(), {issuer_.get(), &policy_}, client, body.dump());
  }

  bssl::UniquePtr<X509> ParsePem(const std::string& pem) {
    bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), pem.size()));
    return bssl::UniquePtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  }

  bssl::UniquePtr<EVP_PKEY> ca_key_;
  bssl::UniquePtr<X509> ca_;
  std::unique_ptr<Issuer> issuer_;
  IssuingPolicy policy_;
  std::unique_ptr<ClmStore> store_;
};

TEST_F(EnrollmentTest, IssuesExactlyTheRequestedNamesUnderTheCa) {
  const std::string csr = Csr("web.example.test", "api.example.test,127.0.0.7");
  auto [status, reply] = Submit("token:scanner", "r1", csr);
  ASSERT_EQ(status, 201u) << reply.dump();
  EXPECT_EQ(reply["status"], "issued");
  EXPECT_EQ(reply["names"],
            nlohmann::json::parse(R"(["web.example.test","api.example.test","127.0.0.7"])"));
  bssl::UniquePtr<X509> cert = ParsePem(reply["certificate"]);
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_verify(cert.get(), ca_key_.get()), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca_.get())), 0);
  // The names: exactly the request's.
  bssl::UniquePtr<GENERAL_NAMES> sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(sans);
  EXPECT_EQ(sk_GENERAL_NAME_num(sans.get()), 3u);
  EXPECT_FALSE(X509_check_ca(cert.get()));
  EXPECT_TRUE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER);
  // 30 days at most, as the policy says.
  int days = 0, seconds = 0;
  ASSERT_TRUE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()),
                             X509_get0_notAfter(cert.get())));
  EXPECT_EQ(days, 30);
  EXPECT_NE(reply["chain"].get<std::string>().find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(reply.count("csr"), 0u);
}

TEST_F(EnrollmentTest, ARetryIsTheSameRequestAndAnotherCsrUnderItsIdIsAConflict) {
  const std::string csr = Csr("a.example.test", "");
  auto first = Submit("token:scanner", "same", csr);
  ASSERT_EQ(first.first, 201u);
  auto again = Submit("token:scanner", "same", csr);
  EXPECT_EQ(again.first, 200u);
  EXPECT_TRUE(again.second["duplicate"].get<bool>());
  EXPECT_EQ(again.second["serial"], first.second["serial"]);
  EXPECT_EQ(again.second["certificate"], first.second["certificate"]);
  auto conflict = Submit("token:scanner", "same", Csr("a.example.test", ""));
  EXPECT_EQ(conflict.first, 409u);
  absl::StatusOr<nlohmann::json> all = store_->CertRequests("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
  // Another client's id of the same spelling is its own request.
  auto other = Submit("token:held", "same", csr);
  EXPECT_EQ(other.first, 202u) << other.second.dump();
}

TEST_F(EnrollmentTest, RefusalsSayWhy) {
  struct Case {
    const char* client;
    std::string csr;
    int days;
    unsigned status;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"token:scanner", Csr("evil.example.org", ""), 0, 403,
       "names outside this client's policy: evil.example.org"},
      {"token:scanner", Csr("a.example.test", "10.1.1.1"), 0, 403, "10.1.1.1"},
      {"token:scanner", Csr("*.example.test", ""), 0, 403, "no wildcards"},
      {"token:scanner", Csr("a.example.test", "", EnrollKeyType::kEcP384), 0, 403,
       "key type ec-p384 is not allowed"},
      {"token:scanner", Csr("a.example.test", ""), 31, 403, "31 days is more"},
      {"token:nobody", Csr("a.example.test", ""), 0, 403, "has no line for it"},
      {"token:scanner", "not a csr", 0, 422, "not a PEM"},
  };
  int n = 0;
  for (const Case& c : cases) {
    auto [status, reply] = Submit(c.client, "refused-" + std::to_string(n++), c.csr, c.days);
    EXPECT_EQ(status, c.status) << reply.dump();
    EXPECT_NE(reply["error"].get<std::string>().find(c.says), std::string::npos) << reply.dump();
  }
  // Every refusal is on record, none issued.
  absl::StatusOr<nlohmann::json> all = store_->CertRequests("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), cases.size());
  for (const auto& r : *all) EXPECT_EQ(r["status"], "rejected") << r.dump();
}

TEST_F(EnrollmentTest, WeakKeysAndExtraExtensionsAreRefused) {
  // A request made with the test PKI's RSA-1024 key and a CA:TRUE
  // extension, signed properly: refused for what it asks, not its form.
  bssl::UniquePtr<EVP_PKEY> weak = testpki::MakeKey(testpki::KeyType::kRsa1024);
  absl::StatusOr<RequestNames> names = ParseRequestNames("a.example.test", "");
  ASSERT_TRUE(names.ok());
  absl::StatusOr<std::string> weak_csr = BuildCsr(*names, weak.get());
  ASSERT_TRUE(weak_csr.ok());
  auto [status, reply] = Submit("token:scanner", "weak", *weak_csr);
  EXPECT_EQ(status, 422u);
  EXPECT_NE(reply["error"].get<std::string>().find("weak key: rsa-1024"), std::string::npos);

  bssl::UniquePtr<EVP_PKEY> key = testpki::MakeKey(testpki::KeyType::kEcP256);
  bssl::UniquePtr<X509_REQ> req(X509_REQ_new());
  bssl::UniquePtr<X509_NAME> subject(X509_NAME_new());
  X509_NAME_add_entry_by_NID(subject.get(), NID_commonName, MBSTRING_UTF8,
                             reinterpret_cast<const uint8_t*>("a.example.test"), -1, -1, 0);
  X509_REQ_set_subject_name(req.get(), subject.get());
  X509_REQ_set_pubkey(req.get(), key.get());
  bssl::UniquePtr<STACK_OF(X509_EXTENSION)> exts(sk_X509_EXTENSION_new_null());
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, nullptr, nullptr, req.get(), nullptr, 0);
  for (auto [nid, value] : std::vector<std::pair<int, const char*>>{
           {NID_subject_alt_name, "DNS:a.example.test"}, {NID_basic_constraints, "critical,CA:TRUE"}}) {
    bssl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
    ASSERT_TRUE(ext);
    ASSERT_TRUE(bssl::PushToStack(exts.get(), std::move(ext)));
  }
  X509_REQ_add_extensions(req.get(), exts.get());
  ASSERT_TRUE(X509_REQ_sign(req.get(), key.get(), EVP_sha256()));
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  const uint8_t* data;
  size_t len;
  BIO_mem_contents(bio.get(), &data, &len);
  auto [ca_status, ca_reply] =
      Submit("token:scanner", "ca", std::string(reinterpret_cast<const char*>(data), len));
  EXPECT_EQ(ca_status, 422u);
  EXPECT_NE(ca_reply["error"].get<std::string>().find("basicConstraints"), std::string::npos)
      << ca_reply.dump();
}

TEST_F(EnrollmentTest, HeldRequestsWaitForAnAdministrator) {
  auto [status, reply] = Submit("token:held", "h1", Csr("b.example.test", ""));
  ASSERT_EQ(status, 202u) << reply.dump();
  EXPECT_EQ(reply["status"], "pending");
  EXPECT_EQ(reply.count("certificate") ? reply["certificate"].get<std::string>() : "", "");
  const int64_t id = reply["id"];
  absl::StatusOr<nlohmann::json> approved =
      ApproveCertificateRequest(store_.get(), *issuer_, id, "test");
  ASSERT_TRUE(approved.ok()) << approved.status();
  EXPECT_EQ((*approved)["status"], "issued");
  EXPECT_EQ((*approved)["decided_by"], "test");
  EXPECT_TRUE(ParsePem((*approved)["certificate"]));
  // Not twice; and the client's retry now gets the certificate.
  EXPECT_TRUE(absl::IsFailedPrecondition(
      ApproveCertificateRequest(store_.get(), *issuer_, id, "test").status()));
  auto retry = Submit("token:held", "h1", "");
  EXPECT_EQ(retry.first, 400u);  // a retry carries its CSR
  absl::StatusOr<nlohmann::json> mine = store_->CertRequest("token:held", "h1");
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ((*mine)["status"], "issued");
  // A rejected one says why.
  auto [s2, r2] = Submit("token:held", "h2", Csr("c.example.test", ""));
  ASSERT_EQ(s2, 202u);
  absl::StatusOr<nlohmann::json> rejected =
      RejectCertificateRequest(store_.get(), r2["id"], "not this one", "test");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ((*rejected)["reason"], "not this one");
  EXPECT_TRUE(absl::IsNotFound(
      ApproveCertificateRequest(store_.get(), *issuer_, 999, "test").status()));
}

TEST(IssuingPolicyTest, BadLinesNameTheirLine) {
  for (const auto& [text, says] : std::vector<std::pair<const char*, const char*>>{
           {"scanner dns=a.test", "policy:1: a line starts with the client"},
           {"token:a dns=a.test\ntoken:a dns=b.test", "policy:2: token:a has a line already"},
           {"token:a colour=blue", "unknown setting \"colour\""},
           {"token:a days=1000", "days is 1 to 825"},
           {"token:a keys=rsa-1024", "rsa-1024"},
           {"token:a ip=10.0.0.1/8", "10.0.0.0/8"},
           {"token:a approval=maybe", "approval is auto or hold"},
           {"token:a dns", "is not key=value"},
       }) {
    absl::StatusOr<IssuingPolicy> policy = IssuingPolicy::Parse(text, "policy");
    ASSERT_FALSE(policy.ok()) << text;
    EXPECT_NE(policy.status().message().find(says), std::string::npos) << policy.status();
  }
  absl::StatusOr<IssuingPolicy> policy = IssuingPolicy::Parse("* dns=x.test\n", "p");
  ASSERT_TRUE(policy.ok());
  EXPECT_NE(policy->For("token:anyone"), nullptr);
}

TEST(IssuerTest, RefusesAKeyThatIsNotTheCasAndALeafAsCa) {
  bssl::UniquePtr<EVP_PKEY> ca_key = testpki::MakeKey(testpki::KeyType::kEcP256);
  bssl::UniquePtr<EVP_PKEY> other = testpki::MakeKey(testpki::KeyType::kEcP256);
  testpki::CertSpec spec;
  spec.common_name = "ca";
  spec.is_ca = true;
  bssl::UniquePtr<X509> ca = testpki::MakeCert(spec, ca_key.get(), nullptr, ca_key.get());
  EXPECT_FALSE(Issuer::Load(testpki::CertPem(ca.get()), testpki::KeyPem(other.get())).ok());
  testpki::CertSpec leaf_spec;
  leaf_spec.common_name = "leaf";
  bssl::UniquePtr<X509> leaf = testpki::MakeCert(leaf_spec, other.get(), ca.get(), ca_key.get());
  absl::StatusOr<std::unique_ptr<Issuer>> leaf_issuer =
      Issuer::Load(testpki::CertPem(leaf.get()), testpki::KeyPem(other.get()));
  ASSERT_FALSE(leaf_issuer.ok());
  EXPECT_NE(leaf_issuer.status().message().find("not a CA"), std::string::npos);
}

}  // namespace
}  // namespace ers
