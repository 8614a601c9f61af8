// nginx_farm.h: a farm of real TLS endpoints on loopback served by Debian's
// nginx, for the end-to-end tests, the demo and the benchmarks. The farm's
// certificates are made fresh by test_pki; its layout is the truth a sweep
// is checked against.
#ifndef ERS_TESTS_NGINX_FARM_H_
#define ERS_TESTS_NGINX_FARM_H_

#include <string>
#include <vector>

#include "tests/test_pki.h"

namespace ers {
namespace testing {

// FarmEndpoint is one listener of the farm.
struct FarmEndpoint {
  std::string address;  // a loopback address, e.g. 127.0.42.1
  int port = 0;
  bool tls = true;      // false: plain HTTP on this port
  std::string name;     // the leaf's DNS name
  testpki::KeyType key_type = testpki::KeyType::kEcP256;
  bool self_signed = false;
  bool expired = false;
  std::string protocols = "TLSv1.2 TLSv1.3";
  // legacy: an RSA-1024 leaf signed with SHA-1 (nginx is told to accept it).
  bool legacy = false;
  int days_left = 0;  // when > 0, the leaf expires in this many days
  // Filled by WriteFarm: the DER chain served (leaf first).
  std::vector<std::string> served_der;
};

// WriteFarm writes certificates, keys and nginx.conf for |endpoints| into
// |dir| (which must exist) and fills each endpoint's served_der; roots.pem
// holds the roots of the farm's chains (to pass to ers scan --roots). The
// configuration runs |workers| worker processes. Returns false and sets
// |*error| on failure.
bool WriteFarm(const std::string& dir, std::vector<FarmEndpoint>* endpoints,
               int workers, std::string* error);

// StartNginx starts nginx on the farm in |dir|; when it returns true, every
// listener is bound (nginx binds before it daemonizes).
bool StartNginx(const std::string& dir, std::string* error);

// StopNginx stops the farm's nginx and waits (bounded) for it to exit.
void StopNginx(const std::string& dir);

// DemoFarm returns the demo's layout: a handful of endpoints on
// |prefix|.0/29 (e.g. "127.0.42"), ports 8443, 9443 and 10993.
std::vector<FarmEndpoint> DemoFarm(const std::string& prefix);

}  // namespace testing
}  // namespace ers

#endif  // ERS_TESTS_NGINX_FARM_H_
