#!/usr/bin/env bash
# mdev create/remove round trips through the simulator's FUSE mount, from one process and from PROCESSES
# at once, against the same open/write/close loop on plain files in a tmpfs: what the mount costs each
# sysfs write. COUNT round trips in all, split between the processes. The single-process loop runs once more
# with the simulator and the loop sharing one CPU, where handing a request over costs a context switch instead
# of waking the other CPU. Where the kernel has FUSE over io_uring (Linux 6.14+), the same runs follow on a
# simulator served over io_uring (the fuse module's enable_uring is switched on for its start and put back as
# it was), the one-CPU row there pinning only the loop. Needs root.
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

uring=/sys/module/fuse/parameters/enable_uring
uring_before=$(cat "$uring" 2>/dev/null || true)
simulators=(sim sim-one-cpu sim-uring)
work=$(mktemp -d)
cleanup() {
  for simulator in "${simulators[@]}"; do
    "$mdevkit" sim down --root "$work/$simulator" >/dev/null 2>&1 || true
  done
  [ -z "$uring_before" ] || echo "$uring_before" > "$uring"
  umount "$work/tmpfs" 2>/dev/null || true
  # Never recurse into a mount that is still there.
  for mount in "${simulators[@]/%//sys}" tmpfs; do
    if mountpoint -q "$work/$mount"; then
      return
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# A connection takes io_uring or not when it starts, as the module parameter says then.
[ -z "$uring_before" ] || echo N > "$uring"
"$mdevkit" sim up --daemon --root "$work/sim" --profile samples >/dev/null
taskset -c 0 "$mdevkit" sim up --daemon --root "$work/sim-one-cpu" --profile samples >/dev/null
if [ -n "$uring_before" ]; then
  echo Y > "$uring"
  "$mdevkit" sim up --daemon --root "$work/sim-uring" --profile samples >/dev/null
  echo "$uring_before" > "$uring"
fi
mkdir "$work/tmpfs"
mount -t tmpfs tmpfs "$work/tmpfs"
mkdir -p "$work/tmpfs/$parent/mdev_supported_types/$type"

echo "| filesystem | processes | round trips | round trips/s | create median (µs) | create p99 (µs) | remove median (µs) | remove p99 (µs) |"
echo "|---|---|---|---|---|---|---|---|"
"${roundtrip[@]}" "simulator (FUSE)" "$work/sim/$parent" "$type" "$count"
"${roundtrip[@]}" "simulator (FUSE)" "$work/sim/$parent" "$type" $((count / processes)) --processes "$processes"
taskset -c 0 "${roundtrip[@]}" "simulator (FUSE), one CPU" "$work/sim-one-cpu/$parent" "$type" "$count"
if [ -n "$uring_before" ]; then
  "${roundtrip[@]}" "simulator (FUSE over io_uring)" "$work/sim-uring/$parent" "$type" "$count"
  "${roundtrip[@]}" "simulator (FUSE over io_uring)" "$work/sim-uring/$parent" "$type" $((count / processes)) --processes "$processes"
  taskset -c 0 "${roundtrip[@]}" "simulator (FUSE over io_uring), loop on one CPU" "$work/sim-uring/$parent" "$type" "$count"
else
  echo "| simulator (FUSE over io_uring) | this kernel has no FUSE over io_uring ($uring is missing) | | | | | | |"
fi
"${roundtrip[@]}" "plain files (tmpfs)" "$work/tmpfs/$parent" "$type" "$count" --plain
"${roundtrip[@]}" "plain files (tmpfs)" "$work/tmpfs/$parent" "$type" $((count / processes)) --plain --processes "$processes"
