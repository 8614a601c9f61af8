#include "sweep/worker_codec.h"

#include <openssl/bytestring.h>

#include <cstring>

#include "tlsprobe/client_context.h"

namespace ers {
namespace {

void AddString(CBB* cbb, absl::string_view s) {
  CBB child;
  CBB_add_u24_length_prefixed(cbb, &child);
  CBB_add_bytes(&child, reinterpret_cast<const uint8_t*>(s.data()), s.size());
  CBB_flush(cbb);
}

void AddDouble(CBB* cbb, double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof(bits));
  CBB_add_u64(cbb, bits);
}

bool GetString(CBS* cbs, std::string* out) {
  CBS s;
  if (!CBS_get_u24_length_prefixed(cbs, &s)) return false;
  out->assign(reinterpret_cast<const char*>(CBS_data(&s)), CBS_len(&s));
  return true;
}

bool GetDouble(CBS* cbs, double* out) {
  uint64_t bits;
  if (!CBS_get_u64(cbs, &bits)) return false;
  memcpy(out, &bits, sizeof(bits));
  return true;
}

// Frame builds one frame: a u32 length (of type and payload), the type,
// then what |fill| adds.
template <typename Fill>
void AppendFrame(FrameType type, Fill fill, std::string* out) {
  bssl::ScopedCBB cbb;
  CBB_init(cbb.get(), 512);
  CBB_add_u32(cbb.get(), 0);  // patched below
  CBB_add_u8(cbb.get(), static_cast<uint8_t>(type));
  fill(cbb.get());
  uint8_t* data;
  size_t len;
  if (!CBB_finish(cbb.get(), &data, &len)) return;
  const uint32_t body = static_cast<uint32_t>(len - 4);
  data[0] = static_cast<uint8_t>(body >> 24);
  data[1] = static_cast<uint8_t>(body >> 16);
  data[2] = static_cast<uint8_t>(body >> 8);
  data[3] = static_cast<uint8_t>(body);
  out->append(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
}

void AddStats(CBB* cbb, const EngineStats& s) {
  CBB_add_u64(cbb, s.targets_walked);
  CBB_add_u64(cbb, s.probes_started);
  CBB_add_u64(cbb, s.results);
  for (uint64_t n : s.by_outcome) CBB_add_u64(cbb, n);
  CBB_add_u64(cbb, s.backpressure_events);
  CBB_add_u64(cbb, s.peak_in_flight);
  CBB_add_u64(cbb, s.names_resolved);
  CBB_add_u64(cbb, s.sni_probes);
  CBB_add_u64(cbb, s.sni_virtual_hosts);
}

bool GetStats(CBS* cbs, EngineStats* s) {
  bool ok = CBS_get_u64(cbs, &s->targets_walked) &&
            CBS_get_u64(cbs, &s->probes_started) && CBS_get_u64(cbs, &s->results);
  for (uint64_t& n : s->by_outcome) ok = ok && CBS_get_u64(cbs, &n);
  return ok && CBS_get_u64(cbs, &s->backpressure_events) &&
         CBS_get_u64(cbs, &s->peak_in_flight) && CBS_get_u64(cbs, &s->names_resolved) &&
         CBS_get_u64(cbs, &s->sni_probes) && CBS_get_u64(cbs, &s->sni_virtual_hosts);
}

}  // namespace

void AppendRecordFrame(const ProbeResult& r, uint64_t position,
                       uint64_t resume_position, std::string* out) {
  AppendFrame(
      FrameType::kRecord,
      [&](CBB* cbb) {
        CBB_add_u64(cbb, position);
        CBB_add_u64(cbb, resume_position);
        CBB_add_u8(cbb, static_cast<uint8_t>(r.address.family));
        CBB_add_u64(cbb, absl::Uint128High64(r.address.value));
        CBB_add_u64(cbb, absl::Uint128Low64(r.address.value));
        CBB_add_u16(cbb, r.port);
        AddString(cbb, r.name);
        AddString(cbb, r.sni);
        CBB_add_u8(cbb, static_cast<uint8_t>(r.outcome));
        AddString(cbb, r.detail);
        CBB_add_u32(cbb, static_cast<uint32_t>(r.alert));
        AddString(cbb, r.first_bytes);
        CBB_add_u8(cbb, static_cast<uint8_t>(r.starttls));
        AddString(cbb, r.banner);
        CBB_add_u8(cbb, static_cast<uint8_t>(r.sni_source));
        CBB_add_u8(cbb, r.differs_from_default ? 1 : 0);
        CBB_add_u8(cbb, static_cast<uint8_t>(r.mode));
        CBB_add_u8(cbb, static_cast<uint8_t>(r.rung));
        CBB_add_u32(cbb, static_cast<uint32_t>(r.attempts));
        AddDouble(cbb, r.connect_ms);
        AddDouble(cbb, r.handshake_ms);
        CBB_add_u64(cbb, static_cast<uint64_t>(r.start_unix_ms));
        CBB_add_u16(cbb, r.version);
        AddString(cbb, r.version_name);
        AddString(cbb, r.cipher);
        AddString(cbb, r.group);
        AddString(cbb, r.alpn);
        AddString(cbb, r.peer_signature_algorithm);
        CBB_add_u16(cbb, static_cast<uint16_t>(r.chain.size()));
        for (const std::string& der : r.chain) AddString(cbb, der);
        AddString(cbb, r.ocsp_response);
        AddString(cbb, r.sct_list);
        CBB_add_u64(cbb, r.bytes_received);
      },
      out);
}

void AppendReportFrame(const WorkerReport& report, std::string* out) {
  AppendFrame(
      FrameType::kReport,
      [&](CBB* cbb) {
        AddStats(cbb, report.stats);
        CBB_add_u8(cbb, report.interrupted ? 1 : 0);
        CBB_add_u32(cbb, report.concurrency);
        CBB_add_u64(cbb, report.resume_position);
        AddString(cbb, report.error);
      },
      out);
}

bool FrameReader::Next(FrameType* out_type, absl::string_view* out_payload,
                       absl::Status* out_error) {
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  CBS cbs;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(buffer_.data()) + consumed_,
           buffer_.size() - consumed_);
  uint32_t len;
  if (!CBS_get_u32(&cbs, &len)) return false;
  if (len < 1 || len > kMaxFrameLen) {
    *out_error = absl::DataLossError("worker pipe: bad frame length");
    return false;
  }
  if (CBS_len(&cbs) < len) return false;
  *out_type = static_cast<FrameType>(CBS_data(&cbs)[0]);
  *out_payload = absl::string_view(reinterpret_cast<const char*>(CBS_data(&cbs)) + 1, len - 1);
  consumed_ += 4 + len;
  return true;
}

absl::Status DecodeRecord(absl::string_view payload, ProbeResult* r,
                          uint64_t* out_position, uint64_t* out_resume_position) {
  CBS cbs;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  uint8_t family, outcome, mode, rung, starttls, sni_source, differs;
  uint64_t high, low, start_ms;
  uint32_t alert, attempts;
  uint16_t num_certs;
  bool ok = CBS_get_u64(&cbs, out_position) && CBS_get_u64(&cbs, out_resume_position) &&
            CBS_get_u8(&cbs, &family) && CBS_get_u64(&cbs, &high) &&
            CBS_get_u64(&cbs, &low) && CBS_get_u16(&cbs, &r->port) &&
            GetString(&cbs, &r->name) && GetString(&cbs, &r->sni) &&
            CBS_get_u8(&cbs, &outcome) && GetString(&cbs, &r->detail) &&
            CBS_get_u32(&cbs, &alert) && GetString(&cbs, &r->first_bytes) &&
            CBS_get_u8(&cbs, &starttls) && GetString(&cbs, &r->banner) &&
            CBS_get_u8(&cbs, &sni_source) && CBS_get_u8(&cbs, &differs) &&
            CBS_get_u8(&cbs, &mode) && CBS_get_u8(&cbs, &rung) &&
            CBS_get_u32(&cbs, &attempts) && GetDouble(&cbs, &r->connect_ms) &&
            GetDouble(&cbs, &r->handshake_ms) && CBS_get_u64(&cbs, &start_ms) &&
            CBS_get_u16(&cbs, &r->version) && GetString(&cbs, &r->version_name) &&
            GetString(&cbs, &r->cipher) && GetString(&cbs, &r->group) &&
            GetString(&cbs, &r->alpn) &&
            GetString(&cbs, &r->peer_signature_algorithm) &&
            CBS_get_u16(&cbs, &num_certs);
  if (ok) {
    r->chain.resize(num_certs);
    for (std::string& der : r->chain) ok = ok && GetString(&cbs, &der);
  }
  ok = ok && GetString(&cbs, &r->ocsp_response) && GetString(&cbs, &r->sct_list) &&
       CBS_get_u64(&cbs, &r->bytes_received) && CBS_len(&cbs) == 0;
  if (!ok || (family != 4 && family != 6) ||
      outcome > static_cast<uint8_t>(Outcome::kNoResources) ||
      mode > static_cast<uint8_t>(ProbeMode::kCerts) || starttls >= kNumStarttls ||
      sni_source >= kNumSniSources || differs > 1) {
    return absl::DataLossError("worker pipe: malformed record");
  }
  r->address.family = static_cast<IpFamily>(family);
  r->address.value = absl::MakeUint128(high, low);
  r->outcome = static_cast<Outcome>(outcome);
  r->alert = static_cast<int32_t>(alert);
  r->mode = static_cast<ProbeMode>(mode);
  r->starttls = static_cast<Starttls>(starttls);
  r->sni_source = static_cast<SniSource>(sni_source);
  r->differs_from_default = differs == 1;
  r->rung = rung;
  r->rung_name = RungName(rung);
  r->attempts = static_cast<int>(attempts);
  r->start_unix_ms = static_cast<int64_t>(start_ms);
  return absl::OkStatus();
}

absl::Status DecodeReport(absl::string_view payload, WorkerReport* out) {
  CBS cbs;
  CBS_init(&cbs, reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  uint8_t interrupted;
  if (!GetStats(&cbs, &out->stats) || !CBS_get_u8(&cbs, &interrupted) ||
      !CBS_get_u32(&cbs, &out->concurrency) ||
      !CBS_get_u64(&cbs, &out->resume_position) || !GetString(&cbs, &out->error) ||
      CBS_len(&cbs) != 0) {
    return absl::DataLossError("worker pipe: malformed report");
  }
  out->interrupted = interrupted != 0;
  return absl::OkStatus();
}

}  // namespace ers
