#!/usr/bin/env bash
# Placement quality of `mdevkit plan` against first-fit and the exhaustive optimum, on seeded random
# hosts and request streams; prints the Markdown section kept in docs/benchmarks.md.
#   plan-quality.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/PlanQuality"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
dotnet run -c Release -- "${1:-1}"
