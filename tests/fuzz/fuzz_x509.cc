// Fuzz target: parse, normalize, validate and analyse a served chain, and
// read each certificate's names the way SNI discovery does on the loop
// thread (x509/leaf_names.h). The input is split into certificates at every
// "\xff\xfe" pair; when there are two or more, the last is the trust
// anchor, so that the path builder reaches its rules (name constraints,
// path lengths, extensions). The input is also handed over as a stapled
// OCSP response (x509/ocsp.h) and as a CRL (x509/crl.h). The seeds are DER
// certificates and chains of the test PKI and of the vendored conformance
// suites.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "x509/findings.h"
#include "x509/leaf_names.h"
#include "x509/report_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> chain;
  size_t start = 0;
  for (size_t pos; (pos = input.find("\xff\xfe", start)) != std::string::npos && chain.size() < 16;
       start = pos + 2) {
    chain.push_back(input.substr(start, pos - start));
  }
  chain.push_back(input.substr(start));
  for (const std::string& der : chain) (void)ers::ReadCertificateNames(der, 16);
  ers::TrustStore store;
  if (chain.size() >= 2) {
    (void)store.AddRootDer(chain.back(), false);
    chain.pop_back();
  }
  ers::EndpointFacts facts;
  facts.host = "fuzz.test";
  facts.tls_version = 0x0301;
  // The whole input as a stapled OCSP response too: the CBS parser sees
  // every mutation (it is judged once a path reaches an issuer).
  facts.ocsp_response = input;
  facts.crls.push_back(input);
  ers::ChainReport report = ers::AnalyzeChain(chain, facts, store, ers::Policy(), 1795590000);
  (void)ers::ReportToJson(report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
