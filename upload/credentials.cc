#include "base/json_fields.h"
#include "upload/credentials.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/digest.h"
#include "base/private_files.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ers {

std::string Credentials::Identity() const {
  if (!token.empty()) {
    return absl::StrCat("bearer token (sha256 ", Sha256Hex(token).substr(0, 8),
                        "...)");
  }
  if (!client_cert.empty()) return absl::StrCat("client certificate ", client_cert);
  return "none";
}

std::string CredentialsPath(const std::string& db_path) {
  if (const char* env = getenv("ERS_CREDENTIALS"); env != nullptr && *env != '\0') {
    return env;
  }
  return db_path + ".credentials";
}

absl::StatusOr<Credentials> LoadCredentials(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ELOOP) {
      return absl::PermissionDeniedError(absl::StrCat(
          "credentials file ", path, " is a symbolic link; give the real path"));
    }
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(
          "no CLM configured (", path, " does not exist): run ers login"));
    }
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
      st.st_uid != geteuid()) {
    close(fd);
    return absl::PermissionDeniedError(absl::StrCat(
        "credentials file ", path, " may be read by others (mode ",
        absl::StrFormat("%04o", st.st_mode & 07777),
        "); it must be yours with mode 0600: chmod 600 ", path));
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0 && text.size() < (1 << 20)) {
    text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  // A token is about to be in memory: no core file may carry it.
  DisableCoreDumps();
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("url") || !j["url"].is_string()) {
    return absl::DataLossError(absl::StrCat(
        "credentials file ", path, " is malformed: run ers login again"));
  }
  Credentials c;
  c.url = JsonString(j, "url");
  c.token = JsonString(j, "token");
  c.client_cert = JsonString(j, "client_cert");
  c.client_key = JsonString(j, "client_key");
  c.ca_file = JsonString(j, "ca_file");
  return c;
}

absl::Status SaveCredentials(const std::string& path, const Credentials& c) {
  nlohmann::json j = {{"url", c.url}};
  if (!c.token.empty()) j["token"] = c.token;
  if (!c.client_cert.empty()) j["client_cert"] = c.client_cert;
  if (!c.client_key.empty()) j["client_key"] = c.client_key;
  if (!c.ca_file.empty()) j["ca_file"] = c.ca_file;
  const std::string text = j.dump(2) + "\n";
  return WritePrivateFileAtomically(path, text);
}

}  // namespace ers
