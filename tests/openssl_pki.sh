# openssl_pki.sh: sourced by the shell tests and benchmarks that need
# certificates nginx or Postfix can serve, made with the openssl command in
# the current directory.
#   openssl_ca NAME          ca.key and ca.pem: an ECDSA P-256 root, CN NAME
#   openssl_intermediate FILE NAME
#                            FILE.key and FILE.pem: a CA, CN NAME, issued by ca.pem
#   openssl_leaf FILE EXTS [KEY [DIGEST [ISSUER]]]
#                            FILE.key and FILE.pem, CN FILE, issued by ca.pem
#                            (or ISSUER.pem) for 30 days with the x509v3 lines
#                            EXTS (e.g. "subjectAltName=DNS:a.test"); KEY is
#                            "ec" (P-256, the default) or "rsa:BITS"; DIGEST
#                            sha256 by default. Returns non-zero if FILE.pem is
#                            not made.
#   openssl_der FILE         FILE.pem's DER, base64 on one line (as results carry it)
#   nginx_conf_head WORK     the start of an nginx.conf for a test's own nginx: one
#                            worker, pid, logs and temporary files under WORK, up to
#                            and including "http {" (the caller adds its servers and
#                            the closing brace)
openssl_ca() {
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -subj "/CN=$1" -days 30 -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
}

openssl_intermediate() {
  openssl_leaf "$1" "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid" ec sha256 ca "$2"
}

openssl_leaf() {
  local file=$1 exts=$2 key=${3:-ec} digest=${4:-sha256} issuer=${5:-ca} cn=${6:-$1}
  if [ "$key" = ec ]; then
    openssl ecparam -name prime256v1 -genkey -noout -out "$file.key" 2>/dev/null
  else
    openssl genrsa -out "$file.key" "${key#rsa:}" 2>/dev/null
  fi
  openssl req -new -key "$file.key" -subj "/CN=$cn" -out "$file.csr" 2>/dev/null
  printf '%b\n' "$exts" >"$file.ext"
  openssl x509 -req "-$digest" -in "$file.csr" -CA "$issuer.pem" -CAkey "$issuer.key" \
    -CAcreateserial -days 30 \
    -extfile "$file.ext" -out "$file.pem" 2>/dev/null
  [ -s "$file.pem" ]
}

openssl_der() { openssl x509 -in "$1.pem" -outform der | base64 -w0; }

nginx_conf_head() {
  mkdir -p "$1/tmp"
  cat <<EOF
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $1/tmp/body;
  proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fastcgi;
  uwsgi_temp_path $1/tmp/uwsgi;
  scgi_temp_path $1/tmp/scgi;
EOF
}
