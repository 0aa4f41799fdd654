#!/usr/bin/env bash
# Every man page, English and Chinese, renders with man -l (groff under man-db) and with groff
# alone without a warning, 80 columns wide, under C.UTF-8 (in every Debian) and under zh_CN.UTF-8 when it is
# there; a Chinese page breaks its lines between characters (zh.tmac) and says 名称.
set -euo pipefail
src=${1:?usage: check_man.sh SOURCE_DIR}
command -v man >/dev/null && command -v groff >/dev/null ||
	{ echo "man or groff is not installed (scripts/install-deps)"; exit 1; }
locales=(C.UTF-8)
locale -a 2>/dev/null | grep -qix 'zh_CN\.utf-\?8' && locales+=(zh_CN.UTF-8)
status=0
for page in "$src"/man/*.[1-8] "$src"/man/zh_CN/man*/*.[1-8]; do
	before=$status
	for loc in "${locales[@]}"; do
		out=$(mktemp)
		warnings=$(env -u LC_ALL -u LANGUAGE LANG="$loc" MANWIDTH=80 MAN_KEEP_FORMATTING= \
			man --warnings -l "$page" 2>&1 >"$out") || warnings+=" (man failed)"
		# and groff by itself, as man -l renders a page outside a zh_CN directory (man-db
		# adds zh.tmac by the directory's name; the page must not need that)
		warnings+=$(env -u LC_ALL -u LANGUAGE LANG="$loc" groff -k -ww -man -Tutf8 -rLL=78n \
			"$page" 2>&1 >/dev/null) || warnings+=" (groff failed)"
		if [ -n "$warnings" ]; then
			echo "$page ($loc): $warnings"
			status=1
		fi
		case $page in
		*/zh_CN/*)
			grep -q '^名称$' "$out" || { echo "$page ($loc): no 名称 heading"; status=1; }
			# a Chinese paragraph not broken between characters would run past 80 columns
			wide=$(python3 -c 'import sys, unicodedata
w = lambda l: sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in l)
print(max(w(l) for l in open(sys.argv[1], encoding="utf-8").read().split("\n")))' "$out")
			[ "$wide" -le 80 ] || { echo "$page ($loc): a line of $wide columns"; status=1; }
			;;
		esac
		rm -f "$out"
	done
	[ $status -ne $before ] || echo "$page: rendered without warnings (${locales[*]})"
done
exit $status
