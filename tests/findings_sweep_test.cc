// A sweep of a loopback farm whose endpoints each serve one of the x509
// cases, through the public sweep API (include/ers/sweep.h): every finding is
// reported on the right endpoint, in the JSON Lines the user gets.
#include <openssl/ssl.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "ers/sweep.h"
#include "sweep/json_lines_sink.h"
#include "gtest/gtest.h"
#include "tests/test_pki.h"
#include "tests/test_servers.h"

namespace ers {
namespace {

using testpki::CertSpec;
using testpki::KeyType;
constexpr int64_t kDay = 86400;

struct Case {
  std::string name;
  std::vector<X509*> chain;
  EVP_PKEY* key;
  std::set<std::string> expected;
  uint16_t max_version = TLS1_3_VERSION;
  uint16_t min_version = TLS1_VERSION;
};

TEST(FindingsSweepTest, EachFindingOnItsEndpoint) {
  // The PKI: a public root, an intermediate below it, and a second level.
  auto root_key = testpki::MakeKey(KeyType::kEcP256);
  CertSpec ca;
  ca.common_name = "Sweep Root";
  ca.is_ca = true;
  ca.not_after_offset_s = 3650 * kDay;
  auto root = testpki::MakeCert(ca, root_key.get(), nullptr, root_key.get());
  auto inter_key = testpki::MakeKey(KeyType::kEcP256);
  ca.common_name = "Sweep Intermediate";
  ca.serial = 2;
  auto inter = testpki::MakeCert(ca, inter_key.get(), root.get(), root_key.get());
  auto inter2_key = testpki::MakeKey(KeyType::kEcP256);
  ca.common_name = "Sweep Intermediate 2";
  ca.serial = 3;
  auto inter2 = testpki::MakeCert(ca, inter2_key.get(), inter.get(), inter_key.get());
  auto rsa_inter_key = testpki::MakeKey(KeyType::kRsa2048);
  ca.common_name = "Sweep RSA Intermediate";
  ca.serial = 4;
  auto rsa_inter = testpki::MakeCert(ca, rsa_inter_key.get(), root.get(), root_key.get());
  auto private_key = testpki::MakeKey(KeyType::kEcP256);
  ca.common_name = "Private Root";
  auto private_root =
      testpki::MakeCert(ca, private_key.get(), nullptr, private_key.get());
  ca.common_name = "Expired Intermediate";
  ca.serial = 5;
  ca.not_before_offset_s = -900 * kDay;
  ca.not_after_offset_s = -2 * kDay;
  auto old_inter_key = testpki::MakeKey(KeyType::kEcP256);
  auto old_inter = testpki::MakeCert(ca, old_inter_key.get(), root.get(), root_key.get());

  auto ec_key = testpki::MakeKey(KeyType::kEcP256);
  auto rsa1024 = testpki::MakeKey(KeyType::kRsa1024);
  std::vector<bssl::UniquePtr<X509>> leaves;
  uint64_t serial = 100;
  auto leaf = [&](auto tweak, X509* issuer, EVP_PKEY* issuer_key,
                  EVP_PKEY* key) -> X509* {
    CertSpec spec;
    spec.common_name = "site.test";
    spec.dns_names = {"site.test"};
    spec.not_before_offset_s = -10 * kDay;
    spec.not_after_offset_s = 190 * kDay;
    spec.serial = serial++;
    tweak(spec);
    leaves.push_back(testpki::MakeCert(spec, key, issuer, issuer_key));
    return leaves.back().get();
  };
  auto plain = [](CertSpec&) {};
  X509* I = inter.get();
  EVP_PKEY* IK = inter_key.get();
  EVP_PKEY* K = ec_key.get();

  std::vector<Case> cases = {
      {"clean", {leaf(plain, I, IK, K), I}, K, {}},
      {"expired",
       {leaf([](CertSpec& s) { s.not_before_offset_s = -400 * kDay; s.not_after_offset_s = -10 * kDay; }, I, IK, K), I},
       K, {"expired", "untrusted"}},
      {"expiring",
       {leaf([](CertSpec& s) { s.not_before_offset_s = -70 * kDay; s.not_after_offset_s = 20 * kDay; }, I, IK, K), I},
       K, {"expiring_soon"}},
      {"not_yet_valid",
       {leaf([](CertSpec& s) { s.not_before_offset_s = 3 * kDay; }, I, IK, K), I},
       K, {"not_yet_valid", "untrusted"}},
      {"intermediate_expired",
       {leaf(plain, old_inter.get(), old_inter_key.get(), K), old_inter.get()},
       K, {"intermediate_expired", "untrusted"}},
      {"self_signed",
       {leaf(plain, nullptr, K, K)}, K, {"self_signed_leaf", "untrusted"}},
      {"private_ca",
       {leaf(plain, private_root.get(), private_key.get(), K), private_root.get()},
       K, {"untrusted", "root_included"}},
      // Not identified without a cache or AIA: untrusted (unknown_issuer).
      {"missing_intermediate", {leaf(plain, I, IK, K)}, K, {"untrusted"}},
      {"misordered",
       {leaf(plain, inter2.get(), inter2_key.get(), K), I, inter2.get(),
        inter2.get(), private_root.get()},
       K, {"misordered_chain", "duplicate_certificates", "unrelated_certificates"}},
      {"root_included", {leaf(plain, I, IK, K), I, root.get()}, K, {"root_included"}},
      {"weak_key", {leaf(plain, I, IK, rsa1024.get()), I}, rsa1024.get(), {"untrusted", "weak_key"}},  // under 2048 bits: refused
      {"sha1",
       {leaf([](CertSpec& s) { s.digest = EVP_sha1(); }, rsa_inter.get(),
             rsa_inter_key.get(), K),
        rsa_inter.get()},
       K, {"weak_signature", "untrusted"}},
      {"md5",
       {leaf([](CertSpec& s) { s.digest = EVP_md5(); }, rsa_inter.get(),
             rsa_inter_key.get(), K),
        rsa_inter.get()},
       K, {"weak_signature", "untrusted"}},
      {"wrong_eku",
       {leaf([](CertSpec& s) { s.ext_key_usage = "clientAuth"; }, I, IK, K), I},
       K, {"untrusted"}},
      {"long_validity",
       {leaf([](CertSpec& s) { s.not_after_offset_s = 800 * kDay; }, I, IK, K), I},
       K, {"long_validity"}},
      {"missing_san",
       {leaf([](CertSpec& s) { s.dns_names.clear(); }, I, IK, K), I}, K,
       {"missing_san"}},
      {"ca_leaf", {leaf([](CertSpec& s) { s.ca_leaf = true; }, I, IK, K), I}, K,
       {"ca_leaf"}},
      {"tls10", {leaf(plain, I, IK, K), I}, K, {"deprecated_tls"}, TLS1_VERSION},
  };

  std::vector<std::unique_ptr<testing::TestServer>> servers;
  const uint16_t port = testing::FreePort("127.0.0.1");
  std::map<std::string, std::string> case_at;  // address -> case
  SweepOptions options;
  for (size_t i = 0; i < cases.size(); ++i) {
    testing::ServerOptions o;
    o.address = "127.0.88." + std::to_string(i + 1);
    o.port = port;
    o.chain = cases[i].chain;
    o.key = cases[i].key;
    o.max_version = cases[i].max_version;
    o.min_version = cases[i].min_version;
    std::string error;
    servers.push_back(testing::TestServer::Start(o, &error));
    ASSERT_NE(servers.back(), nullptr) << error;
    case_at[o.address] = cases[i].name;
    options.groups.push_back({o.address, "", std::to_string(port)});
  }
  // A host-name target whose name the clean leaf does not carry.
  options.groups.push_back({"", "wrong.test", std::to_string(port)});
  options.resolve = "wrong.test=127.0.88.1";
  options.seed = 7;
  options.handshake_timeout = absl::Seconds(5);
  options.system_roots = false;
  const std::string roots = ::testing::TempDir() + "/findings-root.pem";
  ASSERT_TRUE(testpki::WriteFile(roots, testpki::CertPem(root.get())));
  options.root_files = {roots};
  options.root_files_public = true;  // the validity limit applies
  absl::StatusOr<std::unique_ptr<Sweep>> sweep = Sweep::Create(options);
  ASSERT_TRUE(sweep.ok()) << sweep.status();
  FILE* out = tmpfile();
  JsonLinesSink sink(out, "tmpfile", false);
  absl::Status run = (*sweep)->Run(std::vector<Sink*>{&sink});
  ASSERT_TRUE(run.ok()) << run;
  const SweepSummary* summary = &(*sweep)->summary();
  fflush(out);
  rewind(out);

  std::map<std::string, std::set<std::string>> found;  // case -> finding ids
  char* line = nullptr;
  size_t cap = 0;
  int lines = 0;
  while (getline(&line, &cap, out) > 0) {
    ++lines;
    nlohmann::json j = nlohmann::json::parse(line);
    ASSERT_EQ(j["outcome"], "tls") << line;
    std::string key = j["name"] == "wrong.test" ? "hostname_mismatch"
                                                 : case_at[j["ip"].get<std::string>()];
    std::set<std::string>& ids = found[key];
    for (const auto& f : j["analysis"]["findings"]) ids.insert(f["id"].get<std::string>());
    EXPECT_EQ(j["chain"].size(), j["analysis"]["path"].size() +
                                     j["analysis"]["served"]["duplicate_positions"].size() +
                                     j["analysis"]["served"]["unrelated"].size())
        << key;
  }
  free(line);
  fclose(out);
  EXPECT_EQ(lines, static_cast<int>(cases.size()) + 1);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(found[c.name], c.expected);
  }
  EXPECT_EQ(found["hostname_mismatch"],
            (std::set<std::string>{"hostname_mismatch", "untrusted"}));
  EXPECT_EQ(summary->findings.at("expired"), 1u);
  EXPECT_EQ(summary->findings.at("weak_signature"), 2u);
}

}  // namespace
}  // namespace ers
