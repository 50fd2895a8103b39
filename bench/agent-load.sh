#!/usr/bin/env bash
# Load on the native mdevkitd over the large simulated host (64 Tesla M60 GPUs): 64 definitions on each GPU
# (4,096 devices), 15 of them running on each (960), so that every GPU has one slot left for the changes. Then, at
# once: READERS clients asking GET /v1/devices at DEVICES_RATE requests per second in all, two asking GET
# /v1/parents at 50 per second, SUBSCRIBERS clients following /v1/events, and CHANGES device creates and removes per
# second through sysfs. Prints requests per second and latency, event delivery latency (from just before the sysfs
# write to the event read by a client) and the agent's RSS. Needs root.
#   bench/agent-load.sh [SECONDS [DEVICES_RATE [READERS [SUBSCRIBERS [CHANGES]]]]]
# AGENT=path runs another build of mdevkitd on the same host (for example the previous version's).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
devices_rate=${2:-1000}
readers=${3:-8}
subscribers=${4:-8}
changes=${5:-20}
type=nvidia-11

scripts/setup.sh
make -s >/dev/null
dotnet build bench/Mdevkit.Bench.AgentLoad -c Release -nologo -v quiet -o artifacts/bench/agent-load >/dev/null
mdevkit=artifacts/publish/mdevkit
agent=${AGENT:-artifacts/publish-agent/mdevkitd}
load=(dotnet artifacts/bench/agent-load/Mdevkit.Bench.AgentLoad.dll)

work=$(mktemp -d)
agent_pid=
cleanup() {
  if [ -n "$agent_pid" ]; then kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; fi
  "$mdevkit" sim down --root "$work/sim" >/dev/null 2>&1 || true
  # Never recurse into a mount that is still there.
  if ! mountpoint -q "$work/sim/sys"; then
    rm -rf "$work"
  fi
}
trap cleanup EXIT

"$mdevkit" sim up --daemon --root "$work/sim" --profile large >/dev/null
"${load[@]}" populate "$work/sim" "$type" 64 15

socket="$work/agent.sock"
"$agent" --root "$work/sim" --socket "$socket" >"$work/agent.log" 2>&1 &
agent_pid=$!
# Serving once the socket answers: the agent reads the whole host before it listens.
for _ in $(seq 1 600); do
  curl -sf --unix-socket "$socket" -o /dev/null http://mdevkitd/v1/parents && break
  kill -0 "$agent_pid" 2>/dev/null || { cat "$work/agent.log" >&2; exit 1; }
  sleep 0.1
done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; agent: $agent"
"${load[@]}" run "$work/sim" "$socket" "$agent_pid" "$type" "$seconds" "$devices_rate" 50 "$readers" "$subscribers" "$changes"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
