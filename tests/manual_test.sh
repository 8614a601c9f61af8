#!/usr/bin/env bash
# The manual and the completion come from the --help text: ers help
# COMMAND is ers COMMAND --help; every page renders with man(1) and names
# each flag its --help lists; bash completion offers subcommands and each
# subcommand's flags; tools/install.sh installs pages that man finds.
set -uo pipefail
ers="$PWD/$1"
source tests/shell_checks.sh
work=$(mktemp -d "${TEST_TMPDIR:-/tmp}/ers-manual.XXXXXX")

commands=$("$ers" completion bash | sed -n 's/^    \([a-z]*\)) flags=.*/\1/p')
[ "$(echo "$commands" | wc -w)" -ge 10 ]
check $? "the completion script knows every command: $(echo $commands)"
for cmd in $commands; do
  "$ers" help "$cmd" >"$work/help.txt" 2>&1
  "$ers" "$cmd" --help >"$work/flag-help.txt" 2>&1
  cmp -s "$work/help.txt" "$work/flag-help.txt"
  check $? "ers help $cmd is ers $cmd --help"
  "$ers" manpage "$cmd" >"$work/ers-$cmd.1"
  MANWIDTH=200 man -l "$work/ers-$cmd.1" 2>"$work/man.err" >"$work/page.txt"
  [ ! -s "$work/man.err" ] && grep -q "^NAME" "$work/page.txt" && grep -q "^OPTIONS" "$work/page.txt"
  check $? "the page of ers $cmd renders without warnings: $(head -3 "$work/man.err")"
  missing=""
  for flag in $(grep -o -- '^  --[a-z-]*' "$work/help.txt"); do
    grep -q -- "^       $flag\b" "$work/page.txt" || missing="$missing $flag"
  done
  [ -z "$missing" ]
  check $? "the page of ers $cmd lists every flag of its --help (missing:$missing)"
done
"$ers" help nonsense >/dev/null 2>&1
[ $? -eq 2 ]
check $? "ers help of an unknown command: exit 2"

# bash completion, as bash calls it.
"$ers" completion bash >"$work/ers.bash"
complete_words() {  # complete_words WORD...: what completing the last word offers
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ers; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$work/ers.bash" "$@"
}
complete_words ers sc | grep -qx scan
check $? "bash completes a subcommand"
complete_words ers scan --res | grep -qx -- "--resume"
check $? "bash completes ers scan's flags"
complete_words ers scan -i | grep -qx -- "-iL"
check $? "and their short forms"
complete_words ers report --ru | grep -qx -- "--run"
check $? "each command its own flags"
"$ers" completion zsh | grep -q "^#compdef ers"
check $? "a zsh completion script"
"$ers" completion fish >/dev/null 2>&1
[ $? -eq 2 ]
check $? "an unknown shell: exit 2"

finish
