#!/usr/bin/env bash
# Placement of VM claims on a simulated cluster: DRA slices with shared counters (allocated as the scheduler does)
# against one fixed type pre-created per GPU (the device-plugin way); prints the Markdown table kept in docs/benchmarks.md.
# Exits non-zero when DRA does not place more than the fixed types on every seed or any counter is overdrawn.
#   dra-cluster.sh [SEEDS [HOSTS [CLAIMS-PER-HOST]]]          in memory; defaults 5 seeds, 16 hosts, 8 claims a host
#   dra-cluster.sh --live [SEEDS [HOSTS [CLAIMS-PER-HOST]]]   each host a FUSE-mounted simulator with its own mdevkit-dra
#     process and fake kubelet, every claim prepared; defaults 5, 8, 8. Needs root, /dev/fuse and libfuse3
#     (scripts/setup.sh); also exits non-zero when a prepare fails. The build makes mdevkit-dra beside the bench.
set -euo pipefail
cd "$(dirname "$0")/DraCluster"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
dotnet run -c Release -- "$@"
