#!/usr/bin/env bash
# mdev create/remove round trips through the simulator's FUSE mount, from one process and from PROCESSES
# at once, against the same open/write/close loop on plain files in a tmpfs: what the mount costs each
# sysfs write. COUNT round trips in all, split between the processes. The single-process loop runs once more
# with the simulator and the loop sharing one CPU, where handing a request over costs a context switch instead
# of waking the other CPU. Needs root.
#   bench/fuse-roundtrip.sh [COUNT [PROCESSES]]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000}
processes=${2:-8}
parent=sys/devices/virtual/mtty/mtty
type=mtty-1

scripts/setup.sh
make -s >/dev/null
dotnet build bench/Mdevkit.Bench.Roundtrip -c Release -nologo -v quiet -o artifacts/bench/roundtrip >/dev/null
mdevkit=artifacts/publish/mdevkit
roundtrip=(dotnet artifacts/bench/roundtrip/Mdevkit.Bench.Roundtrip.dll)

work=$(mktemp -d)
cleanup() {
  "$mdevkit" sim down --root "$work/sim" >/dev/null 2>&1 || true
  "$mdevkit" sim down --root "$work/sim-one-cpu" >/dev/null 2>&1 || true
  umount "$work/tmpfs" 2>/dev/null || true
  # Never recurse into a mount that is still there.
  if ! mountpoint -q "$work/sim/sys" && ! mountpoint -q "$work/sim-one-cpu/sys" && ! mountpoint -q "$work/tmpfs"; then
    rm -rf "$work"
  fi
}
trap cleanup EXIT

"$mdevkit" sim up --daemon --root "$work/sim" --profile samples >/dev/null
taskset -c 0 "$mdevkit" sim up --daemon --root "$work/sim-one-cpu" --profile samples >/dev/null
mkdir "$work/tmpfs"
mount -t tmpfs tmpfs "$work/tmpfs"
mkdir -p "$work/tmpfs/$parent/mdev_supported_types/$type"

echo "| filesystem | processes | round trips | round trips/s | create median (µs) | create p99 (µs) | remove median (µs) | remove p99 (µs) |"
echo "|---|---|---|---|---|---|---|---|"
"${roundtrip[@]}" "simulator (FUSE)" "$work/sim/$parent" "$type" "$count"
"${roundtrip[@]}" "simulator (FUSE)" "$work/sim/$parent" "$type" $((count / processes)) --processes "$processes"
taskset -c 0 "${roundtrip[@]}" "simulator (FUSE), one CPU" "$work/sim-one-cpu/$parent" "$type" "$count"
"${roundtrip[@]}" "plain files (tmpfs)" "$work/tmpfs/$parent" "$type" "$count" --plain
"${roundtrip[@]}" "plain files (tmpfs)" "$work/tmpfs/$parent" "$type" $((count / processes)) --plain --processes "$processes"
