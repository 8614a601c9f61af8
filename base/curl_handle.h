// curl_handle.h: libcurl easy handles, one way for every client of ours
// (the uploader, the AIA fetcher): the library initialised once, handles
// and header lists freed by RAII.
#ifndef ERS_BASE_CURL_HANDLE_H_
#define ERS_BASE_CURL_HANDLE_H_

#include <curl/curl.h>

#include <memory>

namespace ers {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

// NewCurlHandle initialises libcurl on first use (thread-safe) and returns
// a fresh easy handle, or null when libcurl cannot make one.
CurlHandle NewCurlHandle();

}  // namespace ers

#endif  // ERS_BASE_CURL_HANDLE_H_
