// curl_downloader.h: the IssuerDownloader of the ers program, on libcurl
// (GnuTLS): http and https only (redirects too, at most 3), no proxy from
// the environment, the body bounded, and every address checked against the
// exclusions in libcurl's open-socket callback, before the connection is
// made, so that no packet reaches an excluded address. Kept out of the
// embedding library: libcurl-gnutls brings OpenSSL's libcrypto with it.
#ifndef ERS_AIA_CURL_DOWNLOADER_H_
#define ERS_AIA_CURL_DOWNLOADER_H_

#include <memory>

#include "ers/issuer_downloader.h"

namespace ers {

std::shared_ptr<IssuerDownloader> NewCurlIssuerDownloader();

}  // namespace ers

#endif  // ERS_AIA_CURL_DOWNLOADER_H_
