# postfix_instance.sh: sourced by tests and benchmarks that need a Postfix.
# postfix_instance DIR CERT KEY INTERFACES [MASTER_LINE...] writes a
# self-contained Postfix configuration under DIR (which must lie under
# /tmp, world-traversable: Postfix's daemons read it as their own user)
# whose smtpd offers STARTTLS with CERT (leaf first, then the chain) and
# KEY on port 25 (smtp) and 587 (submission) of INTERFACES, plus each
# MASTER_LINE, and starts it. It logs to DIR/log; stop it with
# `postfix -c DIR stop`. Returns non-zero if Postfix does not start.
postfix_instance() {
  local dir=$1 cert=$2 key=$3 interfaces=$4
  shift 4
  mkdir -p "$dir/queue" "$dir/data"
  chown postfix "$dir/data"
  cat >"$dir/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = $interfaces
inet_protocols = ipv4
myhostname = mail.ers.test
mydestination =
alias_maps =
alias_database =
maillog_file_prefixes = /tmp
maillog_file = $dir/log
smtpd_tls_chain_files = $key, $cert
smtpd_tls_security_level = may
smtpd_peername_lookup = no
smtpd_client_connection_count_limit = 0
default_process_limit = 200
CONF
  {
    echo "smtp       inet  n - n - - smtpd"
    echo "submission inet  n - n - - smtpd"
    printf '%s\n' "$@"
    echo "cleanup    unix  n - n - 0 cleanup"
    echo "qmgr       unix  n - n 300 1 qmgr"
    echo "tlsmgr     unix  - - n 1000? 1 tlsmgr"
    echo "anvil      unix  - - n - 1 anvil"
    echo "scache     unix  - - n - 1 scache"
    echo "proxymap   unix  - - n - - proxymap"
    echo "postlog    unix-dgram n - n - 1 postlogd"
  } >"$dir/master.cf"
  /usr/sbin/postfix -c "$dir" start >/dev/null 2>&1
}
