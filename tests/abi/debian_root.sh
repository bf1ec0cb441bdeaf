#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fdkit's Debian packages, built from the tree and installed into a fresh Debian 12 root,
# reported as TAP. Usage: debian_root.sh SOURCE_DIR WORK_DIR
#
# 1. scripts/build-debs builds the packages (lintian errors fail it);
# 2. debootstrap makes a minimal bookworm root with a C compiler and pkg-config, from the
#    mirror apt is configured with (downloads are cached in WORK_DIR/debootstrap-cache);
# 3. the packages are installed there with dpkg, a pkg-config consumer is built and run
#    against them, and `fdkit run` runs a command.
# Needs root (chroot, mount) and the network for debootstrap. Slow: it runs only when the
# build is configured with -Dpackage_tests=true (scripts/test-all does so).
set -uo pipefail
source_dir=$(realpath "$1")
work=$(realpath -m "$2")
mkdir -p "$work"
n=0
root=""

cleanup() {
  if [[ -n $root ]]; then
    mountpoint -q "$root/proc" && umount "$root/proc"
    rm -rf "$root"
  fi
}
trap cleanup EXIT

# step NAME CMD...: runs CMD, prints its TAP line; a failure shows the output and ends.
step() {
  local name=$1 log
  shift
  n=$((n + 1))
  log=$("$@" 2>&1)
  if [[ $? -ne 0 ]]; then
    echo "not ok $n - $name"
    sed 's/^/# /' <<<"$log" | tail -n 60
    echo "1..$n"
    exit 1
  fi
  echo "ok $n - $name"
  last_output=$log
}

if [[ $(id -u) -ne 0 ]]; then
  echo "Bail out! debian-root needs root (debootstrap, chroot, mount)"
  exit 1
fi

mirror=$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' /etc/apt/sources.list.d/debian.sources \
  /etc/apt/sources.list 2>/dev/null)
mirror=${mirror:-http://deb.debian.org/debian}

step "scripts/build-debs builds the packages, lintian reports no error" \
  "$source_dir/scripts/build-debs" "$work/debs"
# the library package is named after the soname (libfdkit1 for soname 1)
lib_pkg=$(sed -n 's/^Package: \(libfdkit[0-9][0-9]*\)$/\1/p' "$source_dir/debian/control")
packages=("$lib_pkg" libfdkit-dev fdkit-tools)
for p in "${packages[@]}"; do
  step "$p was built" compgen -G "$work/debs/${p}_*.deb"
done


# The symbols check the package build makes (dh_makeshlibs -- -c1), on the built library:
# a symbol the file lists and the library lacks must fail it.
lib_deb=$(compgen -G "$work/debs/${lib_pkg}_*.deb")
lib_version=$(dpkg-deb -f "$lib_deb" Version)
symbols="$source_dir/debian/$lib_pkg.symbols"
extracted="$work/symbols-check"
rm -rf "$extracted" && mkdir -p "$extracted"
step "$lib_pkg extracts" dpkg-deb -x "$lib_deb" "$extracted/pkg"
step "dpkg-gensymbols -c1 accepts debian/$lib_pkg.symbols" \
  dpkg-gensymbols -c1 -p"$lib_pkg" -v"$lib_version" -P"$extracted/pkg" -I"$symbols" -O"$extracted/out.symbols"
# Listed like the others (the same node, and the release that added them: a symbol listed
# with the package's own version is not one that disappeared).
listed=$(sed -n 's/^ fdk_[a-z_0-9]*@\(FDKIT_[0-9.]* [^ ]*\)$/\1/p' "$symbols" | head -n 1)
{ cat "$symbols"; echo " fdk_removed_for_the_test@$listed"; } >"$extracted/removed.symbols"
step "dpkg-gensymbols -c1 rejects a listed symbol the library lacks" \
  sh -c '! dpkg-gensymbols -c1 -p"$1" -v"$2" -P"$3" -I"$4" -O"$5"' sh "$lib_pkg" "$lib_version" \
  "$extracted/pkg" "$extracted/removed.symbols" "$extracted/out2.symbols"
rm -rf "$extracted"

root=$(mktemp -d "$work/root.XXXXXX")
mkdir -p "$work/debootstrap-cache"
step "debootstrap a fresh bookworm root from $mirror" \
  nice debootstrap --variant=minbase --cache-dir="$work/debootstrap-cache" \
  --include=gcc,libc6-dev,pkgconf,libuv1-dev,liburing2 bookworm "$root" "$mirror"
step "mount /proc in the root" mount -t proc proc "$root/proc"

mkdir -p "$root/tmp/debs" "$root/tmp/app"
for p in "${packages[@]}"; do
  cp "$work/debs/${p}"_*.deb "$root/tmp/debs/"
done
cp "$source_dir/tests/consumers/consumer.c" "$root/tmp/app/"
in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 chroot "$root" "$@"; }

step "dpkg installs the three packages" in_root sh -c 'dpkg -i /tmp/debs/*.deb'
step "the tool has no RUNPATH" in_root sh -c '! readelf -d /usr/bin/fdkit 2>/dev/null | grep -q RUNPATH'
step "pkg-config finds fdkit" in_root pkg-config --exists fdkit
step "a consumer builds with pkg-config --cflags --libs fdkit" \
  in_root sh -c 'cd /tmp/app && cc consumer.c -o consumer $(pkg-config --cflags --libs fdkit)'
step "the consumer runs" in_root /tmp/app/consumer
library=$(sed -n 's/^library //p' <<<"$last_output")
step "it loaded the packaged library ($library)" test "$(in_root readlink -f "$library")" = \
  "$(in_root sh -c "readlink -f /usr/lib/*/libfdkit.so.${lib_pkg#libfdkit}")"
step "fdkit run runs a command" in_root fdkit run -- /bin/echo packaged-fdkit
step "its output reached the tool" grep -q packaged-fdkit <<<"$last_output"
step "the man pages are installed" test -e "$root/usr/share/man/man1/fdkit.1.gz" -a \
  -e "$root/usr/share/man/man3/fdkit.3.gz"
step "the packages remove cleanly" in_root dpkg --purge "${packages[@]}"
echo "1..$n"
