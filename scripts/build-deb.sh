#!/usr/bin/env bash
# Builds mdevkit's two Debian packages from the staging trees that `make deb` filled with make install's targets:
#   mdevkit          the binary, its completion and man page, mdevctl's directories, the agent mdevkitd with its
#                    systemd unit and the mdevkit group, and the Kubernetes DRA plugin mdevkit-dra; installs beside
#                    Debian's mdevctl
#   mdevkit-mdevctl  the mdevctl and lsmdev names and the udev rule; takes Debian's mdevctl's place
# Usage: scripts/build-deb.sh VERSION STAGING OUTPUT   (STAGING/mdevkit and STAGING/mdevkit-mdevctl; STAGING ends in debian)
set -euo pipefail

version=$1
staging=$2
output=$3
arch=$(dpkg --print-architecture)
maintainer='mdevkit maintainers <maintainers@users.noreply.r-seed-2c35f18f.example>'
# The time of the last commit dates the changelog and copyright, and dpkg-deb clamps file times to it,
# so the same commit builds the same packages.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# What Debian adds to make install's layout: compressed man pages (links follow their target's new name),
# a binary without unused sections, and the /usr/bin names that Debian's mdevctl package used, so scripts
# calling /usr/bin/mdevctl still work (udev rules and mdevctl 1.3 and later use /usr/sbin).
debianize() {
  local root=$1
  install -d -m 0755 "$root/DEBIAN"
  for page in "$root"/usr/share/man/man8/*.8; do
    if [ -L "$page" ]; then
      ln -s "$(readlink "$page").gz" "$page.gz"
      rm "$page"
    else
      gzip -9n "$page"
    fi
  done
  for binary in "$root/usr/sbin/mdevkit" "$root/usr/sbin/mdevkitd" "$root/usr/sbin/mdevkit-dra"; do
    [ ! -f "$binary" ] || objcopy --remove-section=.comment "$binary"
  done
  if [ -L "$root/usr/sbin/mdevctl" ]; then
    install -d "$root/usr/bin"
    ln -s ../sbin/mdevkit "$root/usr/bin/mdevctl"
    ln -s ../sbin/mdevkit "$root/usr/bin/lsmdev"
  fi
}

# The project declares no license file; the copyright file says so rather than guess one.
# A native package's changelog is the project's own: one entry for this version.
write_docs() {
  local root=$1 package=$2 doc=$1/usr/share/doc/$2
  install -d "$doc"
  cat >"$doc/copyright" <<EOF
$package, part of mdevkit: a toolkit for Linux mediated devices (VFIO mdev).

Copyright $(date -u -d "@$SOURCE_DATE_EPOCH" +%Y) $maintainer

License: no license file is part of this release; see the project's repository
for the terms under which mdevkit is distributed.
EOF
  gzip -9n >"$doc/changelog.gz" <<EOF
$package ($version) unstable; urgency=medium

  * mdevkit $version; the project's git log has the changes.

 -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
EOF
}

# The libc6 version the binaries need, from the symbols they use (dpkg-shlibdeps reads libc6's symbols file).
# libfuse3 is not among them: the simulator opens it only when it mounts; nor is OpenSSL, which .NET opens when the
# agent first hashes a token or serves TLS (the control file names it).
# It runs beside the staging trees, with the debian/control it asks for, and finds the package's root by its DEBIAN.
shared_library_depends() {
  printf 'Source: mdevkit\n\nPackage: mdevkit\nArchitecture: any\n' >"$staging/control"
  (cd "$staging/.." && dpkg-shlibdeps -O debian/mdevkit/usr/sbin/mdevkit debian/mdevkit/usr/sbin/mdevkitd debian/mdevkit/usr/sbin/mdevkit-dra) | sed -n 's/^shlibs:Depends=//p'
  rm "$staging/control"
}

# Root owns everything (dpkg-deb --root-owner-group); directories and data are world-readable, only the binary runs.
build() {
  local root=$1 package=$2
  find "$root" -type d -exec chmod 0755 {} +
  find "$root" -type f -exec chmod 0644 {} +
  for executable in "$root/usr/sbin/mdevkit" "$root/usr/sbin/mdevkitd" "$root/usr/sbin/mdevkit-dra" "$root/DEBIAN/postinst"; do
    [ ! -f "$executable" ] || chmod 0755 "$executable"
  done
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0r md5sum) >"$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/md5sums"
  dpkg-deb --root-owner-group --build "$root" "$output/${package}_${version}_${arch}.deb"
}

control() {
  local root=$1
  cat >"$root/DEBIAN/control"
  printf 'Installed-Size: %s\n' "$(du -sk --exclude=DEBIAN "$root" | cut -f1)" >>"$root/DEBIAN/control"
}

rm -rf "$output"
mkdir -p "$output"

mdevkit="$staging/mdevkit"
debianize "$mdevkit"
# Computed before the control file's here-document, where a failure would go unnoticed.
depends=$(shared_library_depends)
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies for mdevkit" >&2; exit 1; }
write_docs "$mdevkit" mdevkit
install -D -m 0644 dist/mdevkit.lintian-overrides "$mdevkit/usr/share/lintian/overrides/mdevkit"
# The group whose members may use the agent's socket; left in place on removal, as Debian leaves system groups.
cat >"$mdevkit/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ] && ! getent group mdevkit >/dev/null; then
  groupadd --system mdevkit
fi
EOF
control "$mdevkit" <<EOF
Package: mdevkit
Version: $version
Architecture: $arch
Maintainer: $maintainer
Section: admin
Priority: optional
Depends: $depends, libssl3 | libssl3t64, passwd
Recommends: fuse3, libfuse3-3
Description: toolkit for Linux mediated devices (VFIO mdev)
 mdevkit manages mediated devices, the virtual devices that a vendor driver
 carves out of a physical one (vGPUs, s390 crypto queues and subchannels),
 with mdevctl's commands, definitions and output formats, plus planning of
 many devices at once and libvirt's node-device views.
 .
 It also simulates the kernel's mdev core and its vendor drivers as a real
 filesystem (mdevkit sim), so mdev tooling can be tested without the
 hardware; the simulator needs FUSE (fuse3, libfuse3-3).
 .
 mdevkitd, the host agent, serves the same over an HTTP API on a Unix socket
 (members of the mdevkit group may use it), with live events and Prometheus
 metrics; its systemd unit is installed but not enabled.
 .
 mdevkit-dra is a Kubernetes Dynamic Resource Allocation kubelet plugin
 that publishes the host's mediated device capacity and creates devices
 when claims are allocated; on a cluster it runs from a container image.
 .
 This package installs the mdevkit command beside Debian's mdevctl. The
 mdevkit-mdevctl package makes it answer to the mdevctl and lsmdev names.
EOF
build "$mdevkit" mdevkit

names="$staging/mdevkit-mdevctl"
debianize "$names"
write_docs "$names" mdevkit-mdevctl
control "$names" <<EOF
Package: mdevkit-mdevctl
Version: $version
Architecture: $arch
Maintainer: $maintainer
Section: admin
Priority: optional
Depends: mdevkit (= $version)
Provides: mdevctl
Conflicts: mdevctl
Replaces: mdevctl
Description: mdevkit as mdevctl: mediated device management utility
 Makes mdevkit answer to the mdevctl and lsmdev names, in /usr/sbin and
 /usr/bin, and installs the udev rule that starts the devices defined to
 start automatically when their parent device appears.
 .
 It takes the place of Debian's mdevctl package, which it replaces.
EOF
build "$names" mdevkit-mdevctl
