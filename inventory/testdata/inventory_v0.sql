-- An inventory as ers 0.1 wrote it (no PRAGMA user_version): its schema,
-- one configured server, one run, one certificate seen at one endpoint, and
-- a stored resume point. inventory_test opens it with the current release
-- and checks that it is upgraded in place with its data intact.
CREATE TABLE IF NOT EXISTS certificates (
  sha256 TEXT PRIMARY KEY,
  der BLOB NOT NULL,
  subject TEXT, subject_cn TEXT, issuer TEXT, issuer_cn TEXT, issuer_org TEXT,
  serial TEXT, not_before INTEGER, not_after INTEGER,
  key_type TEXT, key_bits INTEGER, key_curve TEXT,
  signature_algorithm TEXT, self_signed INTEGER, is_ca INTEGER,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS scan_runs (
  id INTEGER PRIMARY KEY,
  started INTEGER NOT NULL, finished INTEGER,
  status TEXT NOT NULL, pid INTEGER,
  targets INTEGER DEFAULT 0, results INTEGER DEFAULT 0, tls INTEGER DEFAULT 0,
  duration_s REAL DEFAULT 0, options TEXT
);
CREATE TABLE IF NOT EXISTS sightings (
  cert_sha256 TEXT NOT NULL REFERENCES certificates(sha256),
  ip TEXT NOT NULL, port INTEGER NOT NULL, name TEXT NOT NULL,
  sni TEXT, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  first_run INTEGER, last_run INTEGER,
  PRIMARY KEY (cert_sha256, ip, port, name)
);
CREATE TABLE IF NOT EXISTS endpoint_results (
  run_id INTEGER NOT NULL REFERENCES scan_runs(id),
  ip TEXT NOT NULL, port INTEGER NOT NULL, name TEXT NOT NULL,
  sni TEXT, leaf_sha256 TEXT, chain TEXT, tls_version TEXT, cipher TEXT,
  trusted INTEGER, findings TEXT, seen INTEGER NOT NULL,
  PRIMARY KEY (run_id, ip, port, name)
);
CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS endpoint_results_leaf
  ON endpoint_results (leaf_sha256);
CREATE TABLE IF NOT EXISTS discover_entries (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('server', 'ips')),
  spec TEXT NOT NULL UNIQUE,
  ports TEXT NOT NULL,
  added_unix INTEGER NOT NULL,
  updated_unix INTEGER NOT NULL
);
INSERT INTO discover_entries (kind, spec, ports, added_unix, updated_unix)
  VALUES ('server', 'mail.example.com', '443,465', 1764000000, 1764000000);
INSERT INTO scan_runs (id, started, finished, status, pid, targets, results, tls, duration_s, options)
  VALUES (1, 1764000000, 1764000010, 'done', 4242, 2, 2, 1, 10.0, '{"seed":5}');
INSERT INTO certificates (sha256, der, subject, subject_cn, issuer, issuer_cn, issuer_org,
    serial, not_before, not_after, key_type, key_bits, key_curve, signature_algorithm,
    self_signed, is_ca, first_seen, last_seen)
  VALUES ('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', X'3003020100',
    'CN=mail.example.com', 'mail.example.com', 'CN=Test CA', 'Test CA', 'ers test PKI',
    '01', 1764000000, 1781280000, 'ec', 256, 'P-256', 'ecdsa-with-SHA256', 0, 0,
    1764000000, 1764000000);
INSERT INTO sightings (cert_sha256, ip, port, name, sni, first_seen, last_seen, first_run, last_run)
  VALUES ('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', '127.0.0.1', 443,
    'mail.example.com', 'mail.example.com', 1764000000, 1764000000, 1, 1);
INSERT INTO endpoint_results (run_id, ip, port, name, sni, leaf_sha256, chain, tls_version,
    cipher, trusted, findings, seen)
  VALUES (1, '127.0.0.1', 443, 'mail.example.com', 'mail.example.com',
    '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
    '["00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"]', 'TLSv1.3',
    'TLS_AES_128_GCM_SHA256', 1, '[]', 1764000000);
INSERT INTO settings (key, value) VALUES ('scan_seed', '5');
INSERT INTO settings (key, value) VALUES ('resume_point', 'ers-walk/1 seed=5 shard=1/1 space=abc next=3');
