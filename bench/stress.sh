#!/usr/bin/env bash
# Races, crashes and faults against a mounted simulator and a plain root, round after round for as long as
# asked; each round checks what mdevkit promises: a definition it said it wrote is there (once), a device it
# made exists until removed and never beyond capacity, a group runs whole or not at all, a killed command
# leaves nothing behind, a held device's blocked remove stalls nobody else, a listing survives hotplug.
# At the end: the daemon's memory after many create/remove cycles, and a table of checks run and held.
# Needs root and /dev/fuse; takes minutes, so it is not part of ./test.sh.
#   bench/stress.sh [SECONDS]      (default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-600}

scripts/setup.sh
make -s >/dev/null
mdevkit=$PWD/artifacts/publish/mdevkit

work=$(mktemp -d /tmp/mdevkit-stress.XXXXXX)
sim=$work/sim
plain=$work/plain
failures=$work/failures.log
cleanup() {
  jobs -p | xargs -r kill -9 2>/dev/null || true
  "$mdevkit" sim down --root "$sim" >/dev/null 2>&1 || true
  if ! mountpoint -q "$sim/sys" && ! mountpoint -q "$sim/dev"; then
    rm -rf "$work"
  fi
}
trap cleanup EXIT

"$mdevkit" sim up --daemon --profile samples --root "$sim" >/dev/null
mkdir -p "$plain/etc/mdevctl.d/scripts.d/callouts" "$plain/etc/mdevctl.d/scripts.d/notifiers" "$plain/sys/class/mdev_bus"
daemon=$("$mdevkit" sim status --root "$sim" | sed -n 's/^pid //p')

declare -A runs=() held=()
checks=()
# record CHECK OK [WHAT WENT WRONG]
record() {
  [ -n "${runs[$1]+x}" ] || { checks+=("$1"); runs[$1]=0; held[$1]=0; }
  runs[$1]=$((runs[$1] + 1))
  if [ "$2" = 1 ]; then
    held[$1]=$((held[$1] + 1))
  else
    echo "$1: ${3:-}" >>"$failures"
  fi
}
uuid() { cat /proc/sys/kernel/random/uuid; }
# Set-up and clean-up steps, whose failure the checks themselves reveal.
mk() { "$mdevkit" "$@" >/dev/null 2>&1 || true; }
# Runs N copies of a command line at once (each gets its index as $i), and prints how many exited 0.
race() {
  local n=$1; shift
  local dir; dir=$(mktemp -d "$work/race.XXXXXX")
  for ((i = 0; i < n; i++)); do
    (i=$i; eval "$*" >/dev/null 2>&1; echo $? >"$dir/$i") &
  done
  wait
  { grep -lx 0 "$dir"/* 2>/dev/null || true; } | wc -l
  rm -rf "$dir"
}
definition() { cat "$1/etc/mdevctl.d/$2/$3" 2>/dev/null || true; }
available() { cat "$sim/sys/class/mdev_bus/$1/mdev_supported_types/$2/available_instances"; }

# Twelve defines of one UUID: exactly one wins, and the file holds the winner's type.
check_define_race() {
  local root=$1 u; u=$(uuid)
  local ok; ok=$(race 12 "$mdevkit define --root $root -u $u -p mdpy -t t\$i")
  local file; file=$(definition "$root" mdpy "$u")
  if [ "$ok" = 1 ] && [[ $file == *'"mdev_type": "t'* ]]; then record "define race, 12 on one UUID ($2)" 1
  else record "define race, 12 on one UUID ($2)" 0 "$ok winners; file: $file"; fi
  mk undefine --root "$root" -u "$u"
}

# Ten modifies of one definition, each adding its own attribute: none is lost.
check_modify_race() {
  local root=$1 u; u=$(uuid)
  mk define --root "$root" -u "$u" -p mdpy -t mdpy-vga
  local ok; ok=$(race 10 "$mdevkit modify --root $root -u $u --addattr a\$i --value v")
  local count; count=$(definition "$root" mdpy "$u" | grep -c '"a[0-9]*"' || true)
  if [ "$ok" = 10 ] && [ "$count" = 10 ]; then record "modify race, 10 on one definition ($2)" 1
  else record "modify race, 10 on one definition ($2)" 0 "$ok succeeded, $count attributes kept"; fi
  mk undefine --root "$root" -u "$u"
}

# Defines and undefines of different UUIDs at once: exactly the defined ones remain.
check_define_undefine_race() {
  local root=$1 old=() new=()
  for ((i = 0; i < 8; i++)); do old+=("$(uuid)"); new+=("$(uuid)"); mk define --root "$root" -u "${old[i]}" -p mtty -t mtty-1; done
  for ((i = 0; i < 8; i++)); do
    mk define --root "$root" -u "${new[i]}" -p mtty -t mtty-1 &
    mk undefine --root "$root" -u "${old[i]}" &
  done
  wait
  local left; left=$(ls "$root/etc/mdevctl.d/mtty" 2>/dev/null | sort)
  local want; want=$(printf '%s\n' "${new[@]}" | sort)
  if [ "$left" = "$want" ]; then record "define and undefine of different UUIDs ($2)" 1
  else record "define and undefine of different UUIDs ($2)" 0 "left: $(echo $left)"; fi
  for u in "${new[@]}"; do mk undefine --root "$root" -u "$u"; done
}

# Ten group adds at once: every member is kept.
check_group_race() {
  local root=$1 members=() group=g$RANDOM
  for ((i = 0; i < 10; i++)); do members+=("$(uuid)"); mk define --root "$root" -u "${members[i]}" -p mtty -t mtty-1; done
  local ok; ok=$(race 10 "$mdevkit group add --root $root $group \${members[\$i]}")
  local count; count=$("$mdevkit" group list --root "$root" "$group" | wc -l)
  if [ "$ok" = 10 ] && [ "$count" = 10 ]; then record "group add race, 10 members ($2)" 1
  else record "group add race, 10 members ($2)" 0 "$ok succeeded, $count members kept"; fi
  mk group remove --root "$root" "$group" "${members[@]}"
  for u in "${members[@]}"; do mk undefine --root "$root" -u "$u"; done
}

# start --group against stop --group on 20 members: the group ends whole or gone.
check_group_start_stop() {
  local members=() group=s$RANDOM
  for ((i = 0; i < 20; i++)); do members+=("$(uuid)"); mk define --root "$sim" -u "${members[i]}" -p mtty -t mtty-1; done
  mk group add --root "$sim" "$group" "${members[@]}"
  mk start --root "$sim" --group "$group" &
  mk stop --root "$sim" --group "$group" &
  wait
  local running=0
  for u in "${members[@]}"; do [ -e "$sim/sys/bus/mdev/devices/$u" ] && running=$((running + 1)); done
  if [ "$running" = 0 ] || [ "$running" = 20 ]; then record "start --group racing stop --group, 20 members" 1
  else record "start --group racing stop --group, 20 members" 0 "$running of 20 running"; fi
  for u in "${members[@]}"; do mk stop --root "$sim" -u "$u"; done
  mk group remove --root "$sim" "$group" "${members[@]}"
  for u in "${members[@]}"; do mk undefine --root "$sim" -u "$u"; done
}

# Eight starts racing for an mdpy type's last instances: exactly as many win as there were, none beyond.
check_last_instances() {
  local before; before=$(available mdpy mdpy-vga)
  local made=() dir; dir=$(mktemp -d "$work/made.XXXXXX")
  for ((i = 0; i < 8; i++)); do ("$mdevkit" start --root "$sim" -p mdpy -t mdpy-vga >"$dir/$i" 2>/dev/null || true) & done
  wait
  mapfile -t made < <(cat "$dir"/* | grep -v '^$')
  local after; after=$(available mdpy mdpy-vga)
  local devices; devices=$(ls "$sim/sys/class/mdev_bus/mdpy" | grep -c -- '-.*-' || true)
  if [ "${#made[@]}" = "$before" ] && [ "$after" = 0 ] && [ "$devices" = "$before" ]; then record "8 starts for the last instances" 1
  else record "8 starts for the last instances" 0 "${#made[@]} made of $before available, $after left, $devices devices"; fi
  for u in "${made[@]}"; do mk stop --root "$sim" -u "$u"; done
  rm -rf "$dir"
}

# Defines killed with SIGKILL at random moments: listings stay clean, no temporary file outlives the next define.
check_killed_defines() {
  local root=$1 u
  for ((i = 0; i < 10; i++)); do
    u=$(uuid)
    "$mdevkit" define --root "$root" -u "$u" -p mdpy -t mdpy-vga >/dev/null 2>&1 &
    local pid=$!
    sleep "0.00$((RANDOM % 9))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    mk undefine --root "$root" -u "$u"
  done
  u=$(uuid)
  local list; list=$({ "$mdevkit" define --root "$root" -u "$u" -p mdpy -t mdpy-vga && "$mdevkit" list -d --root "$root" >/dev/null; } 2>&1 || echo "(failed)")
  local temporary; temporary=$(find "$root/etc/mdevctl.d" -name '.*' -type f | wc -l)
  if [ -z "$list" ] && [ "$temporary" = 0 ]; then record "defines killed with SIGKILL ($2)" 1
  else record "defines killed with SIGKILL ($2)" 0 "listing said: $list; $temporary temporary files"; fi
  mk undefine --root "$root" -u "$u"
}

# More held devices with waiting removes than the mount has workers: another parent still answers.
check_blocked_removes() {
  local n=14 devices=() holders=() removers=()
  for ((i = 0; i < n; i++)); do devices+=("$("$mdevkit" start --root "$sim" -p mtty -t mtty-1)"); done
  for u in "${devices[@]}"; do
    local group; group=$(basename "$(readlink "$sim/sys/bus/mdev/devices/$u/iommu_group")")
    bash -c 'exec 3<>"$1"; echo x >&3; exec sleep 600' _ "$sim/dev/vfio/$group" &
    holders+=($!)
  done
  # The holders open their nodes before any remove is sent.
  for u in "${devices[@]}"; do
    until grep -q running "$sim/sys/bus/mdev/devices/$u/vendor/state" 2>/dev/null; do sleep 0.01; done
  done
  for u in "${devices[@]}"; do (echo 1 >"$sim/sys/bus/mdev/devices/$u/remove") 2>/dev/null & removers+=($!); done
  local answered=1
  timeout 20 ls "$sim/sys/class/mdev_bus/mdpy" >/dev/null || answered=0
  kill "${holders[@]}" 2>/dev/null || true
  wait "${removers[@]}" 2>/dev/null || true
  wait "${holders[@]}" 2>/dev/null || true
  local left=0
  for u in "${devices[@]}"; do [ -e "$sim/sys/bus/mdev/devices/$u" ] && left=$((left + 1)); done
  if [ "$answered" = 1 ] && [ "$left" = 0 ]; then record "$n held devices with waiting removes" 1
  else record "$n held devices with waiting removes" 0 "other paths answered: $answered; $left devices left after release"; fi
}

# Listings while a parent is pulled out and plugged in again: every listing succeeds.
check_hotplug_listings() {
  (for ((i = 0; i < 20; i++)); do mk sim hotplug remove mtty --root "$sim"; mk sim hotplug add mtty --root "$sim"; done) &
  local plug=$! failed=0
  for ((i = 0; i < 30; i++)); do
    for command in "list" "list -d" "types"; do
      "$mdevkit" $command --root "$sim" >/dev/null 2>"$work/listing.err" || { failed=$((failed + 1)); cp "$work/listing.err" "$work/listing.last"; }
    done
  done
  wait "$plug"
  "$mdevkit" sim hotplug add mtty --root "$sim" >/dev/null 2>&1 || true
  if [ "$failed" = 0 ]; then record "90 listings during 20 hotplugs" 1
  else record "90 listings during 20 hotplugs" 0 "$failed failed: $(cat "$work/listing.last")"; fi
}

rss() { awk '$1 == "VmRSS:" {print $2}' "/proc/$daemon/status"; }

start=$SECONDS
rounds=0
while [ $((SECONDS - start)) -lt "$duration" ]; do
  rounds=$((rounds + 1))
  for root in sim plain; do
    check_define_race "${!root}" "$root"
    check_modify_race "${!root}" "$root"
    check_define_undefine_race "${!root}" "$root"
    check_group_race "${!root}" "$root"
    check_killed_defines "${!root}" "$root"
  done
  check_group_start_stop
  check_last_instances
  check_blocked_removes
  check_hotplug_listings
done

# Memory: many create/remove cycles, nothing left alive; the daemon's RSS must come back near where it was.
rss_before=$(rss)
cycles=20000
create=$sim/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/create
cycle_uuid=$(uuid)
for ((i = 0; i < cycles; i++)); do
  echo "$cycle_uuid" >"$create"
  echo 1 >"$sim/sys/bus/mdev/devices/$cycle_uuid/remove"
done
rss_after=$(rss)
bound=$((rss_before + 16 * 1024))
if [ "$rss_after" -le "$bound" ]; then record "daemon RSS after $cycles create/remove cycles" 1
else record "daemon RSS after $cycles create/remove cycles" 0 "$rss_before kB before, $rss_after kB after"; fi

echo "mdevkit stress: $rounds rounds in $((SECONDS - start)) s; daemon RSS ${rss_before} kB before and ${rss_after} kB after $cycles create/remove cycles (bound: +16 MiB)"
echo
echo "| check | runs | held |"
echo "|---|---|---|"
broken=0
for check in "${checks[@]}"; do
  echo "| $check | ${runs[$check]} | ${held[$check]} |"
  [ "${runs[$check]}" = "${held[$check]}" ] || broken=1
done
if [ "$broken" = 1 ]; then
  echo
  echo "What broke:"
  sort "$failures" | uniq -c | sort -rn | head -40
  exit 1
fi
