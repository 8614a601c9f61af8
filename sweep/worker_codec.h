// worker_codec.h: how a worker process hands its results to the process
// that runs the sweep: length-prefixed binary frames over a pipe, built with
// BoringSSL's CBB and read with CBS, each decoded exactly once. A record
// frame carries one ProbeResult with its walk position and the worker's
// resume position at that moment; the last frame reports the worker's end.
#ifndef ERS_SWEEP_WORKER_CODEC_H_
#define ERS_SWEEP_WORKER_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ers/record.h"
#include "scanner/engine.h"

namespace ers {

// WorkerReport is what a worker says when its sweep ends.
struct WorkerReport {
  EngineStats stats;
  bool interrupted = false;
  uint32_t concurrency = 0;
  uint64_t resume_position = 0;  // lowest walk position not finished
  std::string error;             // empty when the sweep ran
};

enum class FrameType : uint8_t { kRecord = 1, kReport = 2 };

// kMaxFrameLen bounds one frame: a result's chain is bounded by the probe's
// max_handshake_bytes (256 KiB by default), OCSP and SCTs by the same.
inline constexpr uint32_t kMaxFrameLen = 4u << 20;

// AppendRecordFrame appends one record frame to |*out|.
void AppendRecordFrame(const ProbeResult& result, uint64_t position,
                       uint64_t resume_position, std::string* out);
// AppendReportFrame appends the final frame to |*out|.
void AppendReportFrame(const WorkerReport& report, std::string* out);

// FrameReader reassembles frames from a byte stream.
class FrameReader {
 public:
  // Append adds bytes read from the pipe.
  void Append(const char* data, size_t len) { buffer_.append(data, len); }
  // Next returns the next complete frame's type and payload (valid until
  // the next call), false when more bytes are needed, and sets |*out_error|
  // when the stream is corrupt.
  bool Next(FrameType* out_type, absl::string_view* out_payload,
            absl::Status* out_error);
  // pending_bytes is what is buffered but not yet returned.
  size_t pending_bytes() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  size_t consumed_ = 0;
};

// DecodeRecord reads a record frame's payload. kDataLoss when malformed.
[[nodiscard]] absl::Status DecodeRecord(absl::string_view payload,
                                        ProbeResult* out_result,
                                        uint64_t* out_position,
                                        uint64_t* out_resume_position);
// DecodeReport reads a report frame's payload.
[[nodiscard]] absl::Status DecodeReport(absl::string_view payload,
                                        WorkerReport* out);

}  // namespace ers

#endif  // ERS_SWEEP_WORKER_CODEC_H_
