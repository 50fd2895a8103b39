#!/usr/bin/env bash
# Sets up and runs every test; ends with one line "tests: N passed, N failed" and fails on any failure.
# What it is doing is shown as it goes: a line per phase, the build's projects, each test project's result.
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
say() { echo "test.sh: $*" >&2; }

say "checking the Debian packages the tests need"
scripts/setup.sh
say "building the solution and its tests"
dotnet build mdevkit.slnx -nologo -v minimal -clp:NoSummary

results=artifacts/test-results
rm -rf "$results"
say "running the tests (a few minutes; each project reports when it ends)"
status=0
dotnet test mdevkit.slnx --no-build --report-trx --results-directory "$results" "$@" || status=$?

passed=0
failed=0
for report in "$results"/*.trx; do
  [ -e "$report" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$report")
  value() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
done
echo "tests: $passed passed, $failed failed"
if [ "$status" -eq 0 ] && { [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; }; then
  status=1
fi
exit "$status"
