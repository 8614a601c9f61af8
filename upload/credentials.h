// credentials.h: how ers reaches its CLM: the URL and the client's
// credential (a bearer token, or a client certificate and key), plus an
// optional CA file for the CLM's own certificate. Kept in a JSON file only
// the user can read (0600, checked on every use); the token itself is never
// printed, logged or put on a command line.
#ifndef ERS_UPLOAD_CREDENTIALS_H_
#define ERS_UPLOAD_CREDENTIALS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace ers {

struct Credentials {
  std::string url;          // e.g. https://clm.example.com:8444
  std::string token;        // bearer token, or empty
  std::string client_cert;  // PEM file path, or empty
  std::string client_key;   // PEM file path, or empty
  std::string ca_file;      // CA bundle for the CLM's certificate, or empty

  // Identity describes the credential without revealing it.
  std::string Identity() const;
};

// CredentialsPath returns where the credentials of the inventory at
// |db_path| live: $ERS_CREDENTIALS, else "<db_path>.credentials".
std::string CredentialsPath(const std::string& db_path);

// LoadCredentials reads |path|. kNotFound when there is none (no CLM
// configured); kPermissionDenied when others may read it or another user
// owns it; kDataLoss when it is malformed.
[[nodiscard]] absl::StatusOr<Credentials> LoadCredentials(const std::string& path);

// SaveCredentials writes |c| to |path| with mode 0600, atomically.
[[nodiscard]] absl::Status SaveCredentials(const std::string& path, const Credentials& c);

}  // namespace ers

#endif  // ERS_UPLOAD_CREDENTIALS_H_
