// json_lines_sink.h: a Sink that writes one JSON line per record
// (docs/result-schema.md) to a file or stream. At each checkpoint it flushes
// and, for a regular file, fsyncs, so that a resume point stored after the
// checkpoint never covers a line that is not on disk.
#ifndef ERS_SWEEP_JSON_LINES_SINK_H_
#define ERS_SWEEP_JSON_LINES_SINK_H_

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "ers/sweep.h"
#include "sweep/record_json.h"

namespace ers {

class JsonLinesSink : public Sink {
 public:
  // JsonLinesSink writes to |out|, which it does not own; |name| names it in
  // errors. |sync| fsyncs at checkpoints (for files, not pipes or ttys).
  JsonLinesSink(FILE* out, std::string name, bool sync)
      : out_(out), name_(std::move(name)), sync_(sync) {}

  absl::Status Record(const ScanRecord& record) override;
  absl::Status Checkpoint(const std::string& resume_point) override;

 private:
  FILE* out_;
  std::string name_;
  bool sync_;
  RecordJsonWriter writer_;
  std::string line_;  // reused buffer
};

// TruncatePartialLine cuts the file at |path| after its last newline, if it
// does not end in one (a line cut short by a kill or a full disk), so that
// a resumed sweep appends whole lines. A missing file is fine.
[[nodiscard]] absl::Status TruncatePartialLine(const std::string& path);

}  // namespace ers

#endif  // ERS_SWEEP_JSON_LINES_SINK_H_
