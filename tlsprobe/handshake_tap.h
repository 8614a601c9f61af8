// handshake_tap.h: reads the certificates of a server's Certificate message
// straight from its TLS records, when that message travels in the clear
// (TLS 1.2 and older). The probe turns it on for a second attempt after
// BoringSSL rejected a server's leaf before handing over the chain (a key
// usage that forbids the handshake's use, a key it cannot parse: P-192,
// brainpool, tiny RSA): the inventory must record every certificate a
// server sends, whatever the TLS library thinks of it.
//
// In TLS 1.3 the Certificate message is encrypted under the server's
// handshake traffic secret: the probe hands that secret over (from
// BoringSSL's key log callback, SetServerHandshakeSecret), and the tap
// decrypts the server's handshake records with the negotiated cipher suite
// (RFC 8446, section 7) until it has the Certificate message.
//
// Bounded: the tap keeps at most |max_bytes| of records and handshake
// messages, and stops (done) at the Certificate message, when a TLS 1.2
// server starts encrypting (ChangeCipherSpec), when a record does not
// decrypt, or at anything that is not a TLS record.
#ifndef ERS_TLSPROBE_HANDSHAKE_TAP_H_
#define ERS_TLSPROBE_HANDSHAKE_TAP_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ers {

class HandshakeTap {
 public:
  explicit HandshakeTap(size_t max_bytes) : max_bytes_(max_bytes) {}

  // OnBytes reads the next bytes the server sent.
  void OnBytes(absl::string_view bytes);

  // SetServerHandshakeSecret gives the TLS 1.3 server handshake traffic
  // secret; records waiting for it are decrypted now.
  void SetServerHandshakeSecret(absl::string_view secret);

  // done: nothing more will be learned (the certificates were found, or
  // they cannot be, e.g. TLS 1.3's encrypted Certificate).
  bool done() const { return done_; }
  // certificates: the DER certificates of the Certificate message, in the
  // order served; empty until found.
  const std::vector<std::string>& certificates() const { return certificates_; }

 private:
  // OnHandshake parses the reassembled handshake messages.
  void OnHandshake();
  // OnEncrypted decrypts one TLS 1.3 record (header and body) into the
  // handshake messages, or queues it until the secret is known.
  void OnEncrypted(absl::string_view record);
  void Stop() {
    done_ = true;
    std::string().swap(records_);
    std::string().swap(handshake_);
  }

  const size_t max_bytes_;
  bool done_ = false;
  size_t seen_ = 0;
  std::string records_;    // a record not yet complete
  std::string handshake_;  // handshake messages not yet complete
  std::vector<std::string> certificates_;
  // TLS 1.3: the negotiated suite, the secret, waiting records, and the
  // sequence number of the next record to decrypt.
  bool tls13_ = false;
  uint16_t suite_ = 0;
  std::string secret_;
  std::vector<std::string> waiting_;
  uint64_t sequence_ = 0;
};

}  // namespace ers

#endif  // ERS_TLSPROBE_HANDSHAKE_TAP_H_
