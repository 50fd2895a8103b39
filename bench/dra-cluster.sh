#!/usr/bin/env bash
# Placement of VM claims on a simulated cluster: DRA slices with shared counters (allocated as the scheduler does)
# against one fixed type pre-created per GPU (the device-plugin way); prints the Markdown table kept in docs/benchmarks.md.
# Exits non-zero when DRA does not place more than the fixed types on every seed or any counter is overdrawn.
#   dra-cluster.sh [SEEDS] [HOSTS] [CLAIMS-PER-HOST]
set -euo pipefail
cd "$(dirname "$0")/DraCluster"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
dotnet run -c Release -- "${1:-5}" "${2:-16}" "${3:-8}"
