#!/usr/bin/env bash
# The .deb packages as a Debian administrator and a department get them: cpack builds xxgk,
# libxxgk0 and libxxgk-dev from the build tree; their control data (Section, Priority, Depends,
# conffiles, maintainer scripts, shlibs, triggers) and contents (/etc, not /usr/etc; man pages
# compressed; a copyright file in every doc dir; libxxgk exporting only its API) are checked;
# they are unpacked with dpkg -x into a scratch root, a tiny C client is built there with
# nothing but the installed header and pkg-config's flags, and it pushes a record to the
# packaged xxgkd, which must apply it. With a second argument "lintian", lintian runs on the
# three packages instead and must report no error.
set -euo pipefail
build=${1:?usage: check_package.sh BUILD_DIR [lintian]}
mode=${2:-contents}
here=$(cd "$(dirname "$0")" && pwd)
for tool in cpack dpkg-deb dpkg-shlibdeps pkg-config cc nm; do
	command -v "$tool" >/dev/null || { echo "missing: $tool (scripts/install-deps installs it)"; exit 1; }
done
scratch=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$scratch"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# -B: the packages and cpack's staging tree go to the scratch directory, not the build tree
if ! cpack --config "$build/CPackConfig.cmake" -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1; then
	cat "$scratch/cpack.log"
	echo "FAIL: cpack"
	exit 1
fi
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
daemon= lib= dev=
for deb in "$scratch"/out/*.deb; do
	case $(dpkg-deb -f "$deb" Package) in
	xxgk) daemon=$deb ;;
	libxxgk0) lib=$deb ;;
	libxxgk-dev) dev=$deb ;;
	esac
done
echo "built: $(cd "$scratch/out" && ls *.deb | tr '\n' ' ')"
[ -n "$daemon" ] || { echo "FAIL: cpack made no package xxgk"; exit 1; }
if [ -z "$lib" ] || [ -z "$dev" ]; then
	# what the daemon's package lacks is still worth seeing
	bad "cpack made no package libxxgk0 and libxxgk-dev"
	lib=$daemon dev=$daemon
fi

if [ "$mode" = lintian ]; then
	command -v lintian >/dev/null || { echo "missing: lintian (scripts/install-deps installs it)"; exit 1; }
	# exit status: 0 no error, 1 an error (--fail-on error, the default), else lintian failed
	rc=0
	lintian --tag-display-limit 0 "$daemon" "$lib" "$dev" >"$scratch/lintian.log" 2>&1 || rc=$?
	grep -v '^running with root privileges' "$scratch/lintian.log" || true
	errors=$(grep -c '^E: ' "$scratch/lintian.log" || true)
	warnings=$(grep -c '^W: ' "$scratch/lintian.log" || true)
	echo "lintian: $errors errors, $warnings warnings (exit status $rc)"
	[ "$rc" -eq 0 ] && [ "$errors" -eq 0 ] || bad "lintian reports errors or failed"
	exit $fail
fi

field() { dpkg-deb -f "$1" "$2"; }
expect() { # package field pattern
	local value
	value=$(field "$1" "$2")
	if [[ $value =~ $3 ]]; then
		echo "$(field "$1" Package) $2: $value"
	else
		bad "$(field "$1" Package) $2 is '$value', not /$3/"
	fi
}
expect "$daemon" Section '^admin$'
expect "$lib" Section '^libs$'
expect "$dev" Section '^libdevel$'
for deb in "$daemon" "$lib" "$dev"; do expect "$deb" Priority '^optional$'; done
# Depends computed by dpkg-shlibdeps (every library the programs link), and systemd for the
# postinst's systemd-sysusers and systemd-tmpfiles
for need in systemd libzmq5 liblmdb0 libprotobuf-c1 libevent-2.1-7 libinih1 libjansson4 \
	libxlsxwriter4 libcsv3 libc6; do
	[[ ", $(field "$daemon" Depends)," =~ ,\ $need[\ ,] ]] || bad "xxgk does not depend on $need"
done
expect "$daemon" Depends 'libzmq5 \(>= '
expect "$lib" Depends 'libzmq5 \(>= .*'
expect "$dev" Depends "^libxxgk0 \\(= $version\\), libprotobuf-c-dev$"

mkdir -p "$scratch/ctl/xxgk" "$scratch/ctl/lib"
dpkg-deb -e "$daemon" "$scratch/ctl/xxgk"
dpkg-deb -e "$lib" "$scratch/ctl/lib"
conffiles=$(sort "$scratch/ctl/xxgk/conffiles" 2>/dev/null | tr '\n' ' ')
echo "xxgk conffiles: $conffiles"
[ "$conffiles" = "/etc/xxgk/holidays.conf /etc/xxgk/units.conf /etc/xxgk/xxgkd.conf " ] ||
	bad "xxgk's conffiles are not the three files of /etc/xxgk"
for script in postinst prerm postrm; do
	[ -x "$scratch/ctl/xxgk/$script" ] || bad "xxgk has no executable $script"
	sh -n "$scratch/ctl/xxgk/$script" || bad "xxgk's $script is not valid sh"
done
grep -q '^[[:space:]]*systemd-sysusers .*xxgk.conf' "$scratch/ctl/xxgk/postinst" ||
	bad "xxgk's postinst does not create the user with systemd-sysusers"
# (try-restart restarts, on an upgrade, only a daemon an administrator started)
if grep -v 'try-restart' "$scratch/ctl/xxgk/postinst" |
	grep -Eq '(systemctl|deb-systemd-helper|deb-systemd-invoke).*(enable|start|restart)'; then
	bad "xxgk's postinst enables or starts something"
fi
grep -q 'rm -rf "$DPKG_ROOT/var/lib/xxgk"' "$scratch/ctl/xxgk/postrm" ||
	bad "xxgk's postrm purge leaves the state directory"
echo "xxgk scripts: $(cd "$scratch/ctl/xxgk" && ls postinst prerm postrm | tr '\n' ' ')"
echo "libxxgk0 shlibs: $(cat "$scratch/ctl/lib/shlibs")"
grep -qx "libxxgk 0 libxxgk0 (>= $version)" "$scratch/ctl/lib/shlibs" || bad "libxxgk0's shlibs"
grep -qx 'activate-noawait ldconfig' "$scratch/ctl/lib/triggers" || bad "libxxgk0 has no ldconfig trigger"

root=$scratch/root
for deb in "$daemon" "$lib" "$dev"; do
	dpkg -x "$deb" "$root"
	name=$(field "$deb" Package)
	[ -s "$root/usr/share/doc/$name/copyright" ] || bad "$name has no copyright file"
	[ -s "$root/usr/share/doc/$name/changelog.gz" ] || bad "$name has no changelog.gz"
done
[ ! -e "$root/usr/etc" ] || bad "files in /usr/etc: $(cd "$root/usr/etc" && find . -type f)"
for f in etc/xxgk/xxgkd.conf etc/xxgk/units.conf etc/xxgk/holidays.conf usr/bin/xxgkd \
	usr/lib/sysusers.d/xxgk.conf usr/lib/systemd/system/xxgkd.service usr/include/xxgk.h \
	usr/share/man/man3/libxxgk.3.gz; do
	[ -e "$root/$f" ] || bad "not installed: /$f"
done
uncompressed=$(find "$root/usr/share/man" -type f ! -name '*.gz')
[ -z "$uncompressed" ] || bad "man pages not compressed: $uncompressed"
echo "man pages: $(find "$root/usr/share/man" -type f -name '*.gz' | wc -l) compressed"

# the maintainer scripts, run as dpkg runs them for an installation in $DPKG_ROOT: postinst
# makes the user and /etc/xxgk root:xxgk 0750 and enables nothing; purge (after dpkg has
# removed the conffiles) removes the store and /etc/xxgk, and leaves the user
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
	DPKG_ROOT=$root "$scratch/ctl/xxgk/postinst" configure >"$scratch/postinst.log" 2>&1 ||
		bad "postinst configure failed: $(cat "$scratch/postinst.log")"
	user=$(grep '^xxgk:' "$root/etc/passwd" || true)
	echo "postinst: user $user; /etc/xxgk mode $(stat -c '%a, uid %u, gid %g' "$root/etc/xxgk" 2>/dev/null)"
	[[ $user == xxgk:x:*:*:*:/var/lib/xxgk:* ]] || bad "postinst did not create the user xxgk"
	gid=$(grep '^xxgk:' "$root/etc/group" | cut -d: -f3)
	[ "$(stat -c '%a %u %g' "$root/etc/xxgk")" = "750 0 $gid" ] || bad "/etc/xxgk is not root:xxgk 0750"
	enabled=$(find "$root/etc/systemd" -name 'xxgkd*' 2>/dev/null || true)
	[ -z "$enabled" ] || bad "postinst enabled $enabled"
	mkdir -p "$root/var/lib/xxgk" && touch "$root/var/lib/xxgk/data.mdb"
	cp -a "$root/etc/xxgk" "$scratch/etc-xxgk"
	rm -f "$root/etc/xxgk/xxgkd.conf" "$root/etc/xxgk/units.conf" "$root/etc/xxgk/holidays.conf"
	DPKG_ROOT=$root "$scratch/ctl/xxgk/postrm" purge >"$scratch/postrm.log" 2>&1 ||
		bad "postrm purge failed: $(cat "$scratch/postrm.log")"
	[ ! -e "$root/var/lib/xxgk" ] || bad "purge left /var/lib/xxgk"
	[ ! -e "$root/etc/xxgk" ] || bad "purge left /etc/xxgk"
	grep -q '^xxgk:' "$root/etc/passwd" || bad "purge removed the user xxgk"
	echo "postrm purge: /var/lib/xxgk and /etc/xxgk removed, the user kept"
	cp -a "$scratch/etc-xxgk" "$root/etc/xxgk"
else
	bad "systemd-sysusers or systemd-tmpfiles missing (scripts/install-deps installs systemd)"
fi

# libxxgk.so.0 exports xxgk.h's and xxgk_error.h's functions and the wire schema's protobuf-c
# code, nothing else of the project (validation, the store, key files stay inside)
so=$(find "$root/usr/lib" -name 'libxxgk.so.0' | head -n 1)
[ -n "$so" ] || { echo "FAIL: no libxxgk.so.0 in libxxgk0"; exit 1; }
exported=$(nm -D --defined-only "$so" | awk '$2 != "A" {print $3}' | sed 's/@.*//' | sort)
api=$(sed -n 's/^[a-z].*[ *]\(xxgk_[a-z_]*\)(.*/\1/p' "$root/usr/include/xxgk.h" \
	"$root/usr/include/xxgk_error.h" | sort -u)
others=$(comm -23 <(echo "$exported" | grep -v '^xxgk__v1__') <(echo "$api"))
missing=$(comm -13 <(echo "$exported") <(echo "$api"))
echo "libxxgk.so.0 exports $(echo "$api" | wc -l) API functions and $(echo "$exported" | grep -c '^xxgk__v1__') protobuf-c symbols"
[ -z "$others" ] || bad "libxxgk.so.0 exports more than its API: $(echo $others)"
[ -z "$missing" ] || bad "libxxgk.so.0 does not export: $(echo $missing)"
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libxxgk.so.0 ] || bad "the soname is '$soname'"

# a department's client, with the installed header and pkg-config's flags only
pcdir=$(dirname "$(find "$root/usr/lib" -name libxxgk.pc | head -n 1)")
flags() { PKG_CONFIG_PATH=$pcdir pkg-config --define-variable=prefix="$root/usr" "$@" libxxgk; }
cflags=$(flags --cflags)
libs=$(flags --libs)
echo "pkg-config --cflags --libs libxxgk: ${cflags//$root/ROOT} ${libs//$root/ROOT}"
[[ " $cflags " == *" -I$root/usr/include "* ]] || bad "the cflags do not name the installed include dir"
# shellcheck disable=SC2086 # the flags are words
if ! cc -std=c11 -Wall -Wextra -Werror -o "$scratch/client" "$here/package_client.c" $cflags $libs; then
	echo "FAIL: the client does not build against the installed libxxgk-dev"
	exit 1
fi
libdir=$(flags --variable=libdir)
resolved=$(LD_LIBRARY_PATH=$libdir ldd "$scratch/client" | sed -n 's/.*libxxgk.so.0 => \([^ ]*\).*/\1/p')
[ "$resolved" = "$libdir/libxxgk.so.0" ] || bad "the client loads libxxgk.so.0 from '$resolved'"

# the packaged xxgkd, on loopback ipc endpoints in the scratch directory
mkdir -p "$scratch/state"
cat >"$scratch/xxgkd.conf" <<CONF
[xxgkd]
state_dir = $scratch/state
units_file = $root/etc/xxgk/units.conf
holidays = $root/etc/xxgk/holidays.conf
ingest = ipc://$scratch/ingest.sock
admin = ipc://$scratch/admin.sock
publish = ipc://$scratch/publish.sock
CONF
"$root/usr/bin/xxgkd" -f -c "$scratch/xxgkd.conf" 2>"$scratch/xxgkd.log" &
pid=$!
for _ in $(seq 300); do
	grep -q 'ready' "$scratch/xxgkd.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
grep -q 'ready' "$scratch/xxgkd.log" || { cat "$scratch/xxgkd.log"; echo "FAIL: the packaged xxgkd did not start"; exit 1; }
if LD_LIBRARY_PATH=$libdir "$scratch/client" "ipc://$scratch/ingest.sock" dept-justice YSQ-PKG-1; then
	:
else
	cat "$scratch/xxgkd.log"
	bad "the client's record was not applied"
fi
exit $fail
