# nginx_farm.sh: sourced by the benchmarks that run nginx in a private
# network namespace. start_nginx_farm WORK "PORT:CERT:KEY ..." writes an
# nginx configuration under WORK (2 workers, no session resumption, every
# server on 0.0.0.0 of the namespace) and starts it; the caller stops it
# with the pid in WORK/nginx.pid.
start_nginx_farm() {
  local work=$1 servers="" spec port cert key
  mkdir -p "$work/tmp"
  for spec in $2; do
    IFS=: read -r port cert key <<<"$spec"
    servers+="server { listen 0.0.0.0:$port ssl backlog=8192; ssl_certificate $cert;
           ssl_certificate_key $key; return 200 \"ok\\n\"; }
"
  done
  cat >"$work/nginx.conf" <<CONF
worker_processes 2;
worker_rlimit_nofile 20000;
pid $work/nginx.pid;
error_log $work/error.log error;
events { worker_connections 8000; }
http {
  access_log off;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp;
  fastcgi_temp_path $work/tmp; uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  ssl_session_cache off; ssl_session_tickets off;
  $servers
}
CONF
  /usr/sbin/nginx -p "$work/" -c "$work/nginx.conf" || { cat "$work/error.log"; return 1; }
}
