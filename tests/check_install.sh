#!/usr/bin/env bash
# cmake --install puts every file in its standard place.
set -euo pipefail
build=${1:?usage: check_install.sh BUILD_DIR}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
missing=0
for f in bin/xxgkd bin/xxgkctl bin/xxgk-push lib/systemd/system/xxgkd.service \
	lib/sysusers.d/xxgk.conf lib/tmpfiles.d/xxgk.conf share/man/man8/xxgkd.8 \
	share/man/man5/xxgkd.conf.5 share/man/man1/xxgkctl.1 share/man/man1/xxgk-push.1 \
	share/doc/xxgk/examples/xxgkd.conf share/doc/xxgk/examples/units.conf etc/xxgk/holidays.conf; do
	[ -e "$prefix/$f" ] || { echo "not installed: $f"; missing=1; }
done
[ -x "$prefix/bin/xxgkd" ] && "$prefix/bin/xxgkd" --version
exit $missing
