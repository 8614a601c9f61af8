#include "tests/nginx_farm.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ers {
namespace testing {
namespace {

constexpr const char* kNginx = "/usr/sbin/nginx";

// RunNginx runs nginx with |extra| arguments and waits for it to exit.
bool RunNginx(const std::string& dir, const std::vector<std::string>& extra,
              std::string* error) {
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    return false;
  }
  if (pid == 0) {
    std::vector<std::string> args = {kNginx, "-p", dir + "/", "-c",
                                     dir + "/nginx.conf"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(&a[0]);
    argv.push_back(nullptr);
    execv(kNginx, argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::ifstream log(dir + "/error.log");
    std::stringstream ss;
    ss << log.rdbuf();
    *error = "nginx failed (exit " + std::to_string(WEXITSTATUS(status)) +
             "): " + ss.str();
    return false;
  }
  return true;
}

}  // namespace

std::vector<FarmEndpoint> DemoFarm(const std::string& prefix) {
  std::vector<FarmEndpoint> farm(8);
  farm[0].address = prefix + ".1";
  farm[0].port = 8443;
  farm[0].name = "www.demo.test";
  farm[1].address = prefix + ".1";
  farm[1].port = 9443;
  farm[1].name = "mail.demo.test";
  farm[1].key_type = testpki::KeyType::kRsa2048;
  farm[2].address = prefix + ".2";
  farm[2].port = 8443;
  farm[2].name = "old.demo.test";
  farm[2].expired = true;
  farm[3].address = prefix + ".3";
  farm[3].port = 10993;
  farm[3].name = "printer.demo.test";
  farm[3].self_signed = true;
  farm[3].protocols = "TLSv1.2";
  farm[4].address = prefix + ".4";
  farm[4].port = 9443;
  farm[4].name = "ldap.demo.test";
  farm[4].key_type = testpki::KeyType::kEcP384;
  farm[5].address = prefix + ".5";
  farm[5].port = 8443;
  farm[5].tls = false;
  farm[6].address = prefix + ".6";
  farm[6].port = 8443;
  farm[6].name = "legacy.demo.test";
  farm[6].legacy = true;
  farm[7].address = prefix + ".6";
  farm[7].port = 9443;
  farm[7].name = "soon.demo.test";
  farm[7].days_left = 12;
  return farm;
}

bool WriteFarm(const std::string& dir, std::vector<FarmEndpoint>* endpoints,
               int workers, std::string* error) {
  mkdir((dir + "/tmp").c_str(), 0700);
  std::ostringstream conf;
  conf << "worker_processes " << workers << ";\n"
       << "pid " << dir << "/nginx.pid;\n"
       << "error_log " << dir << "/error.log warn;\n"
       << "worker_rlimit_nofile 65536;\n"
       << "events { worker_connections 16384; }\n"
       << "http {\n"
       << "  access_log off;\n"
       << "  client_body_temp_path " << dir << "/tmp/body;\n"
       << "  proxy_temp_path " << dir << "/tmp/proxy;\n"
       << "  fastcgi_temp_path " << dir << "/tmp/fastcgi;\n"
       << "  uwsgi_temp_path " << dir << "/tmp/uwsgi;\n"
       << "  scgi_temp_path " << dir << "/tmp/scgi;\n";
  uint64_t serial = 100;
  std::string roots;
  for (size_t i = 0; i < endpoints->size(); ++i) {
    FarmEndpoint& e = (*endpoints)[i];
    conf << "  server {\n    listen " << e.address << ":" << e.port
         << (e.tls ? " ssl" : "") << ";\n";
    if (e.tls) {
      std::string base = dir + "/ep" + std::to_string(i);
      testpki::Chain chain = testpki::MakeChain(
          e.name, e.legacy ? testpki::KeyType::kRsa1024 : e.key_type, serial);
      serial += 10;
      std::string pem;
      if (e.self_signed || e.expired || e.legacy || e.days_left > 0) {
        testpki::CertSpec spec;
        spec.common_name = e.name;
        spec.dns_names = {e.name};
        spec.serial = serial++;
        if (e.expired) {
          spec.not_before_offset_s = -400LL * 24 * 3600;
          spec.not_after_offset_s = -10LL * 24 * 3600;
        }
        if (e.days_left > 0) {
          spec.not_after_offset_s = e.days_left * 24LL * 3600 + 3600;
          // A 90-day certificate near its end, not a fresh short-lived one.
          spec.not_before_offset_s = spec.not_after_offset_s - 90LL * 24 * 3600;
        }
        if (e.legacy) spec.digest = EVP_sha1();
        if (e.self_signed) {
          chain.leaf = testpki::MakeCert(spec, chain.leaf_key.get(), nullptr,
                                         chain.leaf_key.get());
          pem = testpki::CertPem(chain.leaf.get());
          e.served_der = {testpki::Der(chain.leaf.get())};
        } else {
          chain.leaf = testpki::MakeCert(spec, chain.leaf_key.get(),
                                         chain.intermediate.get(),
                                         chain.intermediate_key.get());
        }
      }
      if (pem.empty()) {
        roots += testpki::CertPem(chain.root.get());
        pem = chain.ServedPem();
        e.served_der = {testpki::Der(chain.leaf.get()),
                        testpki::Der(chain.intermediate.get())};
      }
      if (!testpki::WriteFile(base + ".pem", pem) ||
          !testpki::WriteFile(base + ".key", testpki::KeyPem(chain.leaf_key.get()))) {
        *error = "cannot write " + base;
        return false;
      }
      conf << "    ssl_certificate " << base << ".pem;\n"
           << "    ssl_certificate_key " << base << ".key;\n"
           << "    ssl_protocols " << e.protocols << ";\n";
      if (e.legacy) conf << "    ssl_ciphers DEFAULT:@SECLEVEL=0;\n";
    }
    conf << "    return 200 \"ers demo farm\\n\";\n  }\n";
  }
  conf << "}\n";
  if (!testpki::WriteFile(dir + "/roots.pem", roots)) {
    *error = "cannot write roots.pem";
    return false;
  }
  if (!testpki::WriteFile(dir + "/nginx.conf", conf.str())) {
    *error = "cannot write nginx.conf";
    return false;
  }
  return true;
}

bool StartNginx(const std::string& dir, std::string* error) {
  if (access(kNginx, X_OK) != 0) {
    *error = "nginx is not installed (tools/setup.sh installs it)";
    return false;
  }
  return RunNginx(dir, {}, error);
}

void StopNginx(const std::string& dir) {
  std::ifstream pid_file(dir + "/nginx.pid");
  pid_t pid = 0;
  if (!(pid_file >> pid) || pid <= 0) return;
  kill(pid, SIGTERM);
  // Wait for the master to exit: at most 10 s, checking every 10 ms.
  for (int i = 0; i < 1000 && kill(pid, 0) == 0; ++i) {
    timespec ts{0, 10 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
}

}  // namespace testing
}  // namespace ers
