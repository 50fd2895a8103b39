#!/usr/bin/env bash
# Sets up, builds, and runs mdevkit's main job against the built-in simulated host.
# Arguments go to `mdevkit sim` (e.g. --profile nvidia); default: a tour of the default host.
# What it is doing goes to stderr, a line per phase; the tour itself to stdout.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
say() { echo "run.sh: $*" >&2; }

say "checking the Debian packages mdevkit needs"
scripts/setup.sh
say "building mdevkit (a minute on a fresh machine, seconds after that)"
dotnet build src/Mdevkit.Cli -c Release -nologo -v minimal -clp:NoSummary 1>&2
say "running: mdevkit sim $*"
exec dotnet src/Mdevkit.Cli/bin/Release/net10.0/mdevkit.dll sim "$@"
