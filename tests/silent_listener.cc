// silent_listener: for tests run in a private network namespace. Brings the
// namespace's loopback up, listens on 0.0.0.0:PORT with the largest backlog
// and never accepts: the kernel completes up to somaxconn connections that
// nobody ever reads. Exits when its standard input closes.
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: silent_listener PORT\n");
    return 2;
  }
  int ctl = socket(AF_INET, SOCK_DGRAM, 0);
  ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  ioctl(ctl, SIOCGIFFLAGS, &ifr);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(ctl, SIOCSIFFLAGS, &ifr) != 0) {
    perror("silent_listener: bring lo up");
    return 1;
  }
  close(ctl);
  std::ofstream("/proc/sys/net/core/somaxconn") << 65535;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(atoi(argv[1])));
  sin.sin_addr.s_addr = htonl(INADDR_ANY);  // a private namespace's 0.0.0.0
  if (bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0 || listen(fd, 65535) != 0) {
    perror("silent_listener: listen");
    return 1;
  }
  printf("listening\n");
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  return 0;
}
