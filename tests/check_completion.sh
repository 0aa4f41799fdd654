#!/usr/bin/env bash
# The bash completions complete commands, options and their values.
set -euo pipefail
dir=${1:?usage: check_completion.sh COMPLETIONS_DIR}
failed=0
# complete PROGRAM WORDS...: what completing the last word offers
complete_words() {
	local program=$1
	shift
	bash --norc --noprofile -c '
		source "$1/$2"
		shift 2
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		fn=$(complete -p "${COMP_WORDS[0]}" | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
		"$fn"
		echo "${COMPREPLY[*]}"' _ "$dir" "$program" "$program" "$@"
}
expect() {
	local want=$1
	shift
	local got
	got=$(complete_words "$@")
	if [ "$got" = "$want" ]; then
		echo "ok: $* -> $got"
	else
		echo "FAILED: $* -> \"$got\", want \"$want\""
		failed=1
	fi
}
expect "report restatements reload" xxgkctl re
expect "status submit stop" xxgkctl s
expect "xlsx" xxgkctl report --year 2021 --format x
expect "--withdraw" xxgkctl -c /etc/xxgk/xxgkd.conf submit --w
expect "applications" xxgkctl template ap
expect "--unit" xxgkctl verify --un
expect "--config --check-config" xxgkd --c
expect "gb18030 gbk" xxgk-push --encoding g
expect "--skip-bad --server-key" xxgk-push --s
exit $failed
