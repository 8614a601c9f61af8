// leaf_names.h: the DNS names a certificate is issued for, read straight
// from its DER with BoringSSL's CBS (no X509 object): cheap enough for the
// sweep's loop thread, where SNI discovery asks which names to try on an
// address. The full parse (certificate.h) happens later, off the loop.
#ifndef ERS_X509_LEAF_NAMES_H_
#define ERS_X509_LEAF_NAMES_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ers {

// CertificateNames lists a certificate's names as issued.
struct CertificateNames {
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries, as written
  std::string common_name;             // the subject's last CN, "" if none
};

// ReadCertificateNames returns the names of the DER certificate |der|, or
// empty lists when it does not parse (at most |max_names| dNSNames).
CertificateNames ReadCertificateNames(absl::string_view der, size_t max_names = 256);

}  // namespace ers

#endif  // ERS_X509_LEAF_NAMES_H_
