#!/usr/bin/env bash
# mdevkit (NativeAOT) against Debian's mdevctl on the same large tree, side by side, as whole-process
# runs timed by hyperfine. Both run in one private mount namespace where the tree is /sys and
# /etc/mdevctl.d, because Debian's mdevctl 1.2.0 ignores MDEVCTL_ENV_ROOT. Needs root.
#   bench/mdevctl-compare.sh [PARENTS] [DEVICES_PER_PARENT] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
parents=${1:-64}
per_parent=${2:-64}
runs=${3:-20}

scripts/setup.sh
command -v hyperfine >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
make -s >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bench/make-tree.sh "$work/root" "$parents" "$per_parent"
cp artifacts/publish/mdevkit "$work/mdevkit"
ln -s mdevkit "$work/mdevctl"

# Inside the namespace: the tree over /sys and /etc/mdevctl.d, then hyperfine for each command.
unshare -m bash -s -- "$work" "$runs" <<'INNER'
set -euo pipefail
work=$1 runs=$2
mount --make-rprivate /
mount --bind "$work/root/sys" /sys
mount --bind "$work/root/etc/mdevctl.d" /etc/mdevctl.d
mkdir -p /usr/lib/mdevctl/scripts.d/callouts /usr/lib/mdevctl/scripts.d/notifiers
debian=/usr/bin/mdevctl ours=$work/mdevctl
for args in "list" "list -d" "list --dumpjson" "types"; do
  hyperfine --style none --runs "$runs" --warmup 2 --export-json "$work/${args// /_}.json" \
    -n "mdevctl $args" "$debian $args" -n "mdevkit $args" "$ours $args" >/dev/null
done
loop='for i in $(seq 1 20); do u=$(printf "ffffffff-0000-4000-8000-%012x" $i); TOOL define -u $u -p 0000:01:00.0 -t nvidia-12; TOOL undefine -u $u; done'
hyperfine --style none --runs "$runs" --warmup 1 --export-json "$work/define_undefine.json" \
  -n "mdevctl 20x define+undefine" "${loop//TOOL/$debian}" -n "mdevkit 20x define+undefine" "${loop//TOOL/$ours}" >/dev/null
INNER

# Wall-clock medians decide the speed-up; CPU time (user + system, mean) is shown too, as it varies less
# when other work shares the host.
echo "| command | Debian mdevctl $(mdevctl --version | cut -d' ' -f2) (median) | mdevkit (median) | speed-up | CPU Debian / mdevkit |"
echo "|---|---|---|---|---|"
for result in "$work"/*.json; do
  field() { grep -o "\"$1\": *[0-9.e-]*" "$result" | sed 's/.*: *//'; }
  medians=($(field median)) users=($(field user)) systems=($(field system))
  name=$(grep -o '"command": *"mdevctl [^"]*"' "$result" | sed 's/.*"mdevctl \(.*\)"/\1/')
  awk -v name="$name" -v theirs="${medians[0]}" -v ours="${medians[1]}" \
    -v theirs_cpu="${users[0]} ${systems[0]}" -v ours_cpu="${users[1]} ${systems[1]}" \
    'BEGIN { split(theirs_cpu, t, " "); split(ours_cpu, o, " ")
      printf "| `%s` | %.1f ms | %.1f ms | %.1fx | %.1f / %.1f ms |\n", name, theirs * 1000, ours * 1000, theirs / ours, (t[1] + t[2]) * 1000, (o[1] + o[2]) * 1000 }'
done
