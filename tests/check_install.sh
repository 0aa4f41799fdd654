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
	share/doc/xxgk/examples/xxgkd.conf share/doc/xxgk/examples/units.conf \
	share/locale/zh_CN/LC_MESSAGES/xxgk.mo share/man/zh_CN/man1/xxgkctl.1 \
	share/man/zh_CN/man1/xxgk-push.1 etc/xxgk/holidays.conf; do
	[ -e "$prefix/$f" ] || { echo "not installed: $f"; missing=1; }
done
# libxxgk for departments: the library with its soname, the headers, the .pc, libxxgk(3)
for f in 'lib*/libxxgk.so.0' 'lib*/libxxgk.so' 'lib*/pkgconfig/libxxgk.pc' include/xxgk.h \
	include/xxgk_error.h include/xxgk.pb-c.h share/man/man3/libxxgk.3; do
	# shellcheck disable=SC2086 # lib* is the libdir, lib or lib/<triplet>
	compgen -G "$prefix/$f" >/dev/null || compgen -G "$prefix/lib/*/${f#lib\*/}" >/dev/null ||
		{ echo "not installed: $f"; missing=1; }
done
[ -x "$prefix/bin/xxgkd" ] && "$prefix/bin/xxgkd" --version
# an installed tool finds its translations beside it (../share/locale), wherever the prefix is;
# C.UTF-8 with LANGUAGE is a Chinese user's setting that needs no generated zh_CN locale
if [ -x "$prefix/bin/xxgkctl" ]; then
	said=$(env -u LC_ALL -u LC_MESSAGES LANG=C.UTF-8 LANGUAGE=zh_CN "$prefix/bin/xxgkctl" --help)
	case $said in
	用法：xxgkctl*) echo "installed xxgkctl speaks Chinese: ${said%%$'\n'*}" ;;
	*) echo "installed xxgkctl does not speak Chinese: ${said%%$'\n'*}"; missing=1 ;;
	esac
fi
exit $missing
