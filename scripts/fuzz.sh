#!/usr/bin/env bash
# fuzz.sh — the bounded fuzzing of `make test`, run after `go test` passed every target's seeds: each
# target below is fuzzed for FUZZTIME (default 15s) with one worker. An input that fails is written under
# the package's testdata/fuzz/<target>/ and is a seed from then on (commit it with the fix).
set -euo pipefail
GO=${GO:-go}
fuzztime=${FUZZTIME:-15s}
targets=(
  "./infra/httpapi FuzzCommandsAreProjected" # every command: refused with nothing appended, or projected by every read model
  "./infra/httpapi FuzzCommandBody"          # arbitrary bytes: never a 5xx, a well-formed problem
)
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "$GO test -run '^\$' -fuzz '^$name\$' -fuzztime $fuzztime -parallel 1 $pkg"
  "$GO" test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -parallel 1 "$pkg"
done
