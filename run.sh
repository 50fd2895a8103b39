#!/usr/bin/env bash
# Sets up, builds, and runs mdevkit's main job against the built-in simulated host.
# Arguments go to `mdevkit sim` (e.g. --profile nvidia); default: a tour of the default host.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
scripts/setup.sh
dotnet build src/Mdevkit.Cli -c Release -v quiet -nologo >/dev/null
exec dotnet src/Mdevkit.Cli/bin/Release/net10.0/mdevkit.dll sim "$@"
