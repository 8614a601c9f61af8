// demo_farm: writes the demo TLS farm (certificates, keys, nginx.conf) into
// a directory and prints its layout. tools/demo.sh starts nginx on it and
// sweeps it with ers.
#include <cstdio>
#include <string>

#include "tests/nginx_farm.h"

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    fprintf(stderr, "usage: demo_farm DIR [ADDRESS-PREFIX, default 127.0.42]\n");
    return 2;
  }
  std::vector<ers::testing::FarmEndpoint> farm =
      ers::testing::DemoFarm(argc == 3 ? argv[2] : "127.0.42");
  std::string error;
  if (!ers::testing::WriteFarm(argv[1], &farm, 1, &error)) {
    fprintf(stderr, "demo_farm: %s\n", error.c_str());
    return 1;
  }
  for (const auto& e : farm) {
    printf("  %s:%d  %s\n", e.address.c_str(), e.port,
           !e.tls ? "plain HTTP (not TLS)"
                  : (e.name + (e.self_signed ? ", self-signed"
                               : e.expired   ? ", expired"
                               : e.legacy    ? ", RSA-1024 signed with SHA-1"
                               : e.days_left ? ", expires in " + std::to_string(e.days_left) + " days"
                                             : "") +
                     (e.legacy ? ""
                      : e.key_type == ers::testpki::KeyType::kRsa2048 ? ", RSA-2048"
                      : e.key_type == ers::testpki::KeyType::kEcP384 ? ", P-384"
                                                                     : ", P-256"))
                        .c_str());
  }
  return 0;
}
