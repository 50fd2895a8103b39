#!/usr/bin/env bash
# Writes a large mdev host as plain files and links, laid out like sysfs and /etc/mdevctl.d:
#   make-tree.sh DIR [PARENTS] [DEVICES_PER_PARENT]
# Each parent is an M60-like GPU offering nvidia-11..nvidia-18; every parent carries DEVICES_PER_PARENT
# running devices of nvidia-11, and as many definitions.
set -euo pipefail
root=$1
parents=${2:-64}
per_parent=${3:-64}

mkdir -p "$root/sys/class/mdev_bus" "$root/sys/bus/mdev/devices" "$root/etc/mdevctl.d/scripts.d/callouts" \
  "$root/etc/mdevctl.d/scripts.d/notifiers" "$root/usr/lib/mdevctl/scripts.d/callouts" "$root/usr/lib/mdevctl/scripts.d/notifiers"
for ((p = 0; p < parents; p++)); do
  parent=$(printf '0000:%02x:00.0' $((p + 1)))
  device="$root/sys/devices/pci0000:00/$parent"
  for t in 11 12 13 14 15 16 17 18; do
    type="$device/mdev_supported_types/nvidia-$t"
    mkdir -p "$type/devices"
    echo 0 > "$type/available_instances"
    echo vfio-pci > "$type/device_api"
    echo "GRID M60-${t}Q" > "$type/name"
    echo "num_heads=4, frl_config=60, framebuffer=512M, max_resolution=5120x2880, max_instance=16" > "$type/description"
    : > "$type/create"
  done
  ln -s "../../devices/pci0000:00/$parent" "$root/sys/class/mdev_bus/$parent"
  mkdir -p "$root/etc/mdevctl.d/$parent"
  for ((d = 0; d < per_parent; d++)); do
    uuid=$(printf '%08x-0000-4000-8000-%012x' "$p" "$d")
    mkdir -p "$device/$uuid"
    : > "$device/$uuid/remove"
    ln -s ../mdev_supported_types/nvidia-11 "$device/$uuid/mdev_type"
    ln -s "../../../devices/pci0000:00/$parent/$uuid" "$root/sys/bus/mdev/devices/$uuid"
    printf '{\n  "mdev_type": "nvidia-11",\n  "start": "auto",\n  "attrs": []\n}' > "$root/etc/mdevctl.d/$parent/$uuid"
  done
done
