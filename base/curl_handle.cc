#include "base/curl_handle.h"

namespace ers {

CurlHandle NewCurlHandle() {
  static const bool initialised = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)initialised;
  return CurlHandle(curl_easy_init());
}

}  // namespace ers
