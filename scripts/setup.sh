#!/usr/bin/env bash
# Installs what mdevkit needs on a fresh Debian machine: the FUSE runtime and Debian's mdevctl
# (the tests compare against it), make for the native build, libvirt's XML schemas (libvirt0) with
# xmllint (libxml2-utils), which the tests validate every emitted document with, and libvirtd and virsh
# (libvirt-daemon, libvirt-clients), which a test runs against the simulator, udevadm (udev), which a test listens
# to the simulator's udev events with, and what make deb and its test
# use: dpkg-shlibdeps (dpkg-dev) for the packages' Depends, lintian to check them, and gcc with libfuse3's headers
# (libfuse3-dev), which a test compiles against to check the FUSE structures' layouts, curl, which CI asks the
# natively built agent through its Unix socket with, chromium, the browser the agent's dashboard is tested in, and
# zlib1g-dev, the system's zlib that native builds link instead of carrying a copy of their own.
# The .NET SDK must already be there.
set -euo pipefail

packages=(fuse3 libfuse3-3 mdevctl make libvirt0 libxml2-utils libvirt-daemon libvirt-clients udev dpkg-dev lintian gcc libfuse3-dev curl chromium zlib1g-dev)

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (dotnet was not found on PATH)" >&2
  exit 1
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: installing ${missing[*]} needs root" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "setup: installing ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
