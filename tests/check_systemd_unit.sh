#!/usr/bin/env bash
# The unit's hardening, as systemd itself rates it: overall exposure 2.0 or lower.
# Skipped (exit 77) where systemd-analyze is not installed.
set -euo pipefail
unit=${1:?usage: check_systemd_unit.sh xxgkd.service}
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
out=$(systemd-analyze security --offline=yes "$unit" 2>&1) || true
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
	printf '%s\n' "$out" | tail -n 20
	echo "no overall exposure level in systemd-analyze's output"
	exit 1
fi
echo "overall exposure level of $(basename "$unit"): $level (at most 2.0)"
awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }'
