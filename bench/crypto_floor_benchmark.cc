// crypto_floor_benchmark: the floor set by cryptography for one TLS
// handshake, to state the sweep's CPU per handshake as a multiple of it:
// a complete TLS 1.3 handshake in memory (BoringSSL client and server over
// a BIO pair, both sides' CPU), and the client's own public-key work
// (X25519 key generation and agreement, one ECDSA P-256 verification).
#include <openssl/curve25519.h>
#include <openssl/ec.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/nid.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>

#include "benchmark/benchmark.h"
#include "tests/test_pki.h"

namespace {

// Handshake runs one handshake between fresh SSL objects of |client_ctx| and
// |server_ctx| over a BIO pair; returns false on failure.
bool Handshake(SSL_CTX* client_ctx, SSL_CTX* server_ctx) {
  bssl::UniquePtr<SSL> client(SSL_new(client_ctx)), server(SSL_new(server_ctx));
  BIO *a = nullptr, *b = nullptr;
  if (!BIO_new_bio_pair(&a, 0, &b, 0)) return false;
  SSL_set_bio(client.get(), a, a);
  SSL_set_bio(server.get(), b, b);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  for (int i = 0; i < 20; ++i) {
    int c = SSL_do_handshake(client.get());
    int s = SSL_do_handshake(server.get());
    if (c == 1 && s == 1) return true;
  }
  return false;
}

struct Contexts {
  bssl::UniquePtr<SSL_CTX> client{SSL_CTX_new(TLS_method())};
  bssl::UniquePtr<SSL_CTX> server{SSL_CTX_new(TLS_method())};
  ers::testpki::Chain chain =
      ers::testpki::MakeChain("floor.test", ers::testpki::KeyType::kEcP256);
  Contexts(uint16_t version) {
    SSL_CTX_set_min_proto_version(client.get(), version);
    SSL_CTX_set_max_proto_version(client.get(), version);
    SSL_CTX_set1_curves_list(client.get(), "X25519:P-256:P-384");
    SSL_CTX_set_custom_verify(client.get(), SSL_VERIFY_PEER,
                              [](SSL*, uint8_t*) { return ssl_verify_ok; });
    SSL_CTX_use_certificate(server.get(), chain.leaf.get());
    SSL_CTX_add1_chain_cert(server.get(), chain.intermediate.get());
    SSL_CTX_use_PrivateKey(server.get(), chain.leaf_key.get());
    SSL_CTX_set_session_cache_mode(client.get(), SSL_SESS_CACHE_OFF);
    SSL_CTX_set_session_cache_mode(server.get(), SSL_SESS_CACHE_OFF);
  }
};

void BM_Tls13HandshakeInMemory_BothSides(benchmark::State& state) {
  static Contexts c(TLS1_3_VERSION);
  for (auto _ : state) {
    if (!Handshake(c.client.get(), c.server.get())) state.SkipWithError("handshake failed");
  }
}
BENCHMARK(BM_Tls13HandshakeInMemory_BothSides)->Unit(benchmark::kMicrosecond);

void BM_Tls12HandshakeInMemory_BothSides(benchmark::State& state) {
  static Contexts c(TLS1_2_VERSION);
  for (auto _ : state) {
    if (!Handshake(c.client.get(), c.server.get())) state.SkipWithError("handshake failed");
  }
}
BENCHMARK(BM_Tls12HandshakeInMemory_BothSides)->Unit(benchmark::kMicrosecond);

// The client's public-key work in a TLS 1.3 handshake with an ECDSA P-256
// server: one X25519 key pair, one X25519 agreement, one ECDSA verification.
void BM_ClientPublicKeyWork_X25519_EcdsaP256(benchmark::State& state) {
  bssl::UniquePtr<EC_KEY> key(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
  EC_KEY_generate_key(key.get());
  uint8_t digest[32] = {1};
  uint8_t sig[160];  // an ECDSA P-256 signature is at most 72 bytes
  unsigned sig_len = 0;
  ECDSA_sign(0, digest, sizeof(digest), sig, &sig_len, key.get());
  uint8_t peer_public[32], peer_private[64];
  X25519_keypair(peer_public, peer_private);
  for (auto _ : state) {
    uint8_t pub[32], priv[32], shared[32];
    X25519_keypair(pub, priv);
    benchmark::DoNotOptimize(X25519(shared, priv, peer_public));
    benchmark::DoNotOptimize(ECDSA_verify(0, digest, sizeof(digest), sig, sig_len, key.get()));
  }
}
BENCHMARK(BM_ClientPublicKeyWork_X25519_EcdsaP256)->Unit(benchmark::kMicrosecond);

// What certs mode leaves of it: the X25519 key share and agreement only (the
// chain arrives before CertificateVerify, which is never checked).
void BM_ClientPublicKeyWork_CertsMode(benchmark::State& state) {
  uint8_t peer_public[32], peer_private[64];
  X25519_keypair(peer_public, peer_private);
  for (auto _ : state) {
    uint8_t pub[32], priv[32], shared[32];
    X25519_keypair(pub, priv);
    benchmark::DoNotOptimize(X25519(shared, priv, peer_public));
  }
}
BENCHMARK(BM_ClientPublicKeyWork_CertsMode)->Unit(benchmark::kMicrosecond);

}  // namespace
