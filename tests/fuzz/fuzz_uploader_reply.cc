// Fuzz target: what the uploader makes of a CLM's reply: status, JSON body
// and Retry-After header, all hostile.
#include <cstddef>
#include <cstdint>
#include <string>

#include "upload/uploader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const long status = 100 + (data[0] | (data[1] << 8)) % 500;
  const std::string rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t split = rest.find('\n');
  const std::string header = split == std::string::npos ? "" : rest.substr(0, split);
  const std::string body = split == std::string::npos ? rest : rest.substr(split + 1);
  ers::PostResult r = ers::ClassifyReply("https://clm.test", status, body, header.c_str());
  if (r.message.size() > 1000) __builtin_trap();  // server text stays bounded
  if (r.retry_after_s < -1) __builtin_trap();
  // The same body as the reply to the upload of batch |header|: never a
  // delivery of no batch, never an exception, never an unbounded message.
  const ers::Acknowledgement ack = ers::ReadAcknowledgement(body, header);
  if (ack.delivered && header.empty()) __builtin_trap();
  if (ack.message.size() > 1000) __builtin_trap();
  return 0;
}
