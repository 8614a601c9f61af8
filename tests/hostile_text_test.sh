#!/usr/bin/env bash
# Certificate text is outside data: a subject CN carrying terminal escape
# sequences and one carrying a spreadsheet formula are imported (with
# findings that lack ids, and ids that are null), then shown by ers report,
# ers export --csv and ers export --pem. Nothing crashes; no raw control
# byte reaches the terminal output; the formula stays text in the CSV; the
# PEM export's comment cannot start a PEM block of its own.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-hostile-text.XXXXXX")
export ERS_DB="$work/ers.db"

# cert NAME CN: a self-signed certificate with that subject CN, as base64 DER.
cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/$1.key" \
    -subj "/CN=$2" -utf8 -days 30 -outform der -out "$work/$1.der" 2>/dev/null
  base64 -w0 "$work/$1.der"
}
escape_cn=$(printf 'evil\033[2J\033]0;owned\007\r\n-----BEGIN CERTIFICATE-----')
formula_cn='=HYPERLINK("attacker.test";"click")'
a=$(cert escape "$escape_cn")
b=$(cert formula "$formula_cn")
[ -n "$a" ] && [ -n "$b" ]
check $? "openssl made the two certificates"
line() {  # line IP B64 FINDINGS
  printf '{"schema_version":1,"ip":"%s","port":443,"name":"","sni":"","outcome":"tls","time":"2026-12-01T00:00:00.000Z","tls":{"version":"TLSv1.3"},"chain":["%s"],"analysis":{"validation":{"trusted":false},"findings":%s}}\n' "$1" "$2" "$3"
}
{
  line 127.0.0.1 "$a" '[{"severity":"high","message":"no id"}]'
  line 127.0.0.2 "$b" '[{"id":null,"severity":"low"},{"id":"self_signed","severity":"medium"}]'
} >"$work/in.jsonl"
"$ers" import "$work/in.jsonl" >"$work/import.out" 2>&1
status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 1 ]
check $? "import classifies every line without crashing (exit $status: $(tail -1 "$work/import.out"))"
grep -q "imported 2 results" "$work/import.out"
check $? "a finding without an id, or with a null one, does not cost the line"
grep -q "internal error" "$work/import.out"
[ $? -ne 0 ]
check $? "import raised no internal error"

"$ers" report --run 1 >"$work/report.txt" 2>&1
check $? "ers report exits 0"
"$ers" export --run 1 --csv --output "$work/out.csv" 2>"$work/export.err"
check $? "ers export --csv exits 0 ($(cat "$work/export.err"))"
"$ers" export --run 1 --pem --output "$work/out.pem" 2>"$work/export.err"
check $? "ers export --pem exits 0"

for f in report.txt out.csv; do
  ! LC_ALL=C grep -q $'[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]' "$work/$f"
  check $? "$f holds no raw control byte"
done
grep -qF 'evil\e[2J\e]0;owned\x07\r\n-----BEGIN' "$work/report.txt"
check $? "report shows the escape sequence escaped"
grep -q "'=HYPERLINK" "$work/out.csv"
check $? "CSV cell with a formula is prefixed so that it stays text"
! grep -q '^[^#]*,=HYPERLINK\|^=HYPERLINK' "$work/out.csv"
check $? "no CSV cell starts with ="
[ "$(grep -c -- '^-----BEGIN CERTIFICATE-----' "$work/out.pem")" -eq 2 ] &&
  [ "$(grep -c -- '^-----END CERTIFICATE-----' "$work/out.pem")" -eq 2 ]
check $? "the PEM export's comments start no PEM block"
[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
finish
