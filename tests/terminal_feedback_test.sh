#!/usr/bin/env bash
# What a person at a terminal sees (a pseudo-terminal for standard error),
# against a loopback server that accepts and then says nothing:
# - the progress line is there at once, before any result, and redrawn;
# - Ctrl-C says what the scan waits for; a second Ctrl-C stops at once
#   (long before the handshake timeout), exit 3, and --resume works;
# - with --output - the results on standard output carry no progress line.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-tty.XXXXXX")
export ERS_DB="$work/ers.db"

cat >"$work/pty_scan.py" <<'PY'
# pty_scan.py ERS PORT: runs ers scan of a silent server with standard error on a
# pseudo-terminal, and prints what happened as KEY=VALUE lines.
import os, pty, select, signal, socket, subprocess, sys, time
ers, port = sys.argv[1], int(sys.argv[2])
master, slave = pty.openpty()
p = subprocess.Popen([ers, "scan", "--ips", "127.0.0.1", "--ports", str(port),
                      "--handshake-timeout", "60s"],
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
os.close(slave)
seen = b""
def read_until(pattern, limit_s):
    global seen
    deadline = time.monotonic() + limit_s
    while pattern not in seen and time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                seen += os.read(master, 4096)
            except OSError:
                break
    return pattern in seen
start = time.monotonic()
print("progress_at_once=%d" % read_until(b"targets  in flight 1", 3))
print("progress_seconds=%.1f" % (time.monotonic() - start))
redraws_before = seen.count(b"\r\x1b[K")
read_until(b"\x00never", 2.5)
print("redrawn=%d" % (seen.count(b"\r\x1b[K") > redraws_before))
p.send_signal(signal.SIGINT)
print("stopping_line=%d" % read_until(b"stopping: waiting for 1 probe in flight", 3))
t = time.monotonic()
p.send_signal(signal.SIGINT)
rc = p.wait(timeout=20)
print("second_stop_seconds=%.1f" % (time.monotonic() - t))
print("exit=%d" % rc)
read_until(b"stopped now", 1)
print("stopped_now_line=%d" % (b"stopped now" in seen))
PY
# The silent server: listening, never accepting; the kernel completes the
# handshake and the ClientHello waits unanswered. It lives until the fifo
# it reads is closed.
mkfifo "$work/hold"
python3 -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
open(sys.argv[1]).read()
' "$work/hold" >"$work/port" &
server=$!
exec 3>"$work/hold"
trap 'exec 3>&-; kill "$server" 2>/dev/null' EXIT
for _ in $(seq 1 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")

python3 "$work/pty_scan.py" "$ers" "$port" >"$work/result" 2>&1
cat "$work/result" >&2
value() { awk -F= -v k="$1" '$1 == k { print $2 }' "$work/result"; }
[ "$(value progress_at_once)" = 1 ]
check $? "the progress line is drawn before any result ($(value progress_seconds) s)"
[ "$(value redrawn)" = 1 ]
check $? "and redrawn while nothing arrives"
[ "$(value stopping_line)" = 1 ]
check $? "Ctrl-C says it waits for the probe in flight"
[ "$(value exit)" = 3 ] && [ "$(value stopped_now_line)" = 1 ] &&
  awk -v s="$(value second_stop_seconds)" 'BEGIN { exit !(s < 5) }'
check $? "a second Ctrl-C stops at once ($(value second_stop_seconds) s), exit 3"
"$ers" runs | grep -q "running\|killed"
check $? "the run stopped mid-way is not recorded as done"

# --output - on a terminal: standard output carries only the results.
python3 - "$ers" <<'PY' >"$work/stdout.txt"
import os, pty, subprocess, sys
master, slave = pty.openpty()
r = subprocess.run([sys.argv[1], "scan", "--ips", "127.0.0.1", "--ports", "1", "--output", "-",
                    "--db", os.environ["ERS_DB"] + ".2"],
                   stdout=subprocess.PIPE, stderr=slave, timeout=60)
sys.stdout.buffer.write(r.stdout)
PY
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$work/stdout.txt" &&
  ! grep -q $'\r' "$work/stdout.txt"
check $? "--output - gives clean JSON Lines on standard output"

# Colour: automatic on a terminal, off with NO_COLOR.
cat >"$work/color.py" <<'PY'
import os, pty, subprocess, sys
master, slave = pty.openpty()
env = dict(os.environ)
if sys.argv[2] == "no_color":
    env["NO_COLOR"] = "1"
subprocess.run([sys.argv[1], "scan", "-v", "--ips", "127.0.0.1", "--ports", "1", "--db",
                os.environ["ERS_DB"] + ".3"], stdout=subprocess.DEVNULL, stderr=slave, env=env,
               timeout=60)
os.close(slave)
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write("escapes=%d\n" % out.count(b"\x1b["))
PY
python3 "$work/color.py" "$ers" auto >"$work/color.auto"
python3 "$work/color.py" "$ers" no_color >"$work/color.none"
# With -v there is no progress line: every escape sequence is colour.
auto=$(sed -n 's/escapes=//p' "$work/color.auto")
none=$(sed -n 's/escapes=//p' "$work/color.none")
[ "${auto:-0}" -gt 0 ] && [ "${none:-1}" -eq 0 ]
check $? "colour on a terminal by default ($auto escapes), none with NO_COLOR ($none)"

finish
