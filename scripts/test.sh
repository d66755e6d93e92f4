#!/usr/bin/env bash
# test.sh — the `go test` of `make test`, then the bounded fuzzing (scripts/fuzz.sh).
#
# Every test runs under the race detector (when it can be used: scripts/prereq.sh race), but for the few
# named below: each pushes a whole district or history through code the race detector slows five to ten
# times (regular expressions, gzip, the generator, a projection killed and restarted), ≈ 350 s of the
# 15-minute budget, and covers no concurrency that the rest of its package does not cover under the
# detector. Those run without it, beside the main run; the rest of their package runs under it.
# TESTFLAGS (e.g. '-run Disbursement -v') applies to every run, its -run in place of the named pattern.
set -euo pipefail
GO=${GO:-go}
TESTFLAGS=${TESTFLAGS:-}
# package  the tests that run without the race detector (a go test -run pattern)
norace=(
  "./infra/workload ^(TestDefaultDistrict|TestEmbeddedNode|TestDeterministic|TestTarget)$" # whole districts through the generator
  "./infra/portal ^TestNoPersonalDataInPublicResponses$"                                   # every public page scanned for personal data
  "./projections/runtime ^TestKillNineDuringCatchUp$"                                      # 100 000 events projected by children killed ten times
)

race=$(bash scripts/prereq.sh race)
skip=()
for entry in "${norace[@]}"; do
  read -r pkg _ <<<"$entry"
  skip+=("$("$GO" list "$pkg")")
done
mapfile -t pkgs < <("$GO" list ./... | grep -vxF -f <(printf '%s\n' "${skip[@]}"))

# The named packages, in the background: the named tests without the detector, the rest with it.
side=$(mktemp)
trap 'rm -f "$side"' EXIT
(
  for entry in "${norace[@]}"; do
    read -r pkg run <<<"$entry"
    # shellcheck disable=SC2086 # TESTFLAGS and race are lists of flags
    echo "$GO test -run '$run' $TESTFLAGS $pkg" && "$GO" test -run "$run" $TESTFLAGS "$pkg" || exit 1
    # shellcheck disable=SC2086
    echo "$GO test $race -skip '$run' $TESTFLAGS $pkg" && "$GO" test $race -skip "$run" $TESTFLAGS "$pkg" || exit 1
  done
) >"$side" 2>&1 &
sidepid=$!

echo "$GO test $race $TESTFLAGS ./... (${#skip[@]} packages apart: ${skip[*]})"
status=0
# shellcheck disable=SC2086
"$GO" test $race $TESTFLAGS "${pkgs[@]}" || status=$?
wait "$sidepid" || status=1
cat "$side"
[ "$status" = 0 ] || exit "$status"
bash scripts/fuzz.sh
