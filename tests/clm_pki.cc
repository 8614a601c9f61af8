// clm_pki: writes a small PKI for the CLM tests and demo into a directory:
// ca.pem (the CA), server.pem/server.key (for 127.0.0.1, issued by the CA),
// client.pem/client.key (CN given, issued by the CA), and
// expired-client.pem (the same CN and key, clientAuth, expired yesterday).
#include <cstdio>
#include <string>

#include "tests/test_pki.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: clm_pki DIR CLIENT-CN\n");
    return 2;
  }
  using namespace ers::testpki;
  const std::string dir = argv[1];
  auto ca_key = MakeKey(KeyType::kEcP256);
  CertSpec ca;
  ca.common_name = "ers test CLM CA";
  ca.is_ca = true;
  ca.not_after_offset_s = 3650LL * 86400;
  auto ca_cert = MakeCert(ca, ca_key.get(), nullptr, ca_key.get());
  auto server_key = MakeKey(KeyType::kEcP256);
  CertSpec server;
  server.common_name = "127.0.0.1";
  server.ip_addresses = {"127.0.0.1"};
  server.dns_names = {"localhost"};
  server.serial = 2;
  auto server_cert = MakeCert(server, server_key.get(), ca_cert.get(), ca_key.get());
  auto client_key = MakeKey(KeyType::kEcP256);
  CertSpec client;
  client.common_name = argv[2];
  client.ext_key_usage = "clientAuth";
  client.serial = 3;
  auto client_cert = MakeCert(client, client_key.get(), ca_cert.get(), ca_key.get());
  CertSpec expired = client;
  expired.serial = 4;
  expired.not_before_offset_s = -30LL * 86400;
  expired.not_after_offset_s = -86400;
  auto expired_cert = MakeCert(expired, client_key.get(), ca_cert.get(), ca_key.get());
  bool ok = WriteFile(dir + "/ca.pem", CertPem(ca_cert.get())) &&
            WriteFile(dir + "/server.pem", CertPem(server_cert.get()) + CertPem(ca_cert.get())) &&
            WriteFile(dir + "/server.key", KeyPem(server_key.get())) &&
            WriteFile(dir + "/client.pem", CertPem(client_cert.get())) &&
            WriteFile(dir + "/client.key", KeyPem(client_key.get())) &&
            WriteFile(dir + "/expired-client.pem", CertPem(expired_cert.get()));
  if (!ok) {
    fprintf(stderr, "clm_pki: cannot write to %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
