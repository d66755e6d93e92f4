#!/usr/bin/env bash
# bench-compare.sh — the headline benchmarks on this tree and on a baseline, side by side (benchstat).
#   BASE   the baseline: a git ref (default: the latest release tag, or HEAD~1 when there is none)
#   COUNT  runs of each benchmark on each side (default 5; benchstat wants several to say anything)
#   BENCH  the benchmarks, a go test -bench regexp (default: appends, $all reads, replay as of, the
#          community page and JSON, the rebuild of all models)
# Both sides run in this process's PostgreSQL (DATABASE_URL, or one throwaway cluster for both), one after
# the other, on the same machine: the ratios are what a change cost. Output: bench-base.txt,
# bench-head.txt, and benchstat's table on stdout.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
BASE=${BASE:-$(git describe --tags --abbrev=0 2>/dev/null || echo HEAD~1)}
COUNT=${COUNT:-5}
BENCH=${BENCH:-'^Benchmark(AppendSequential|AppendParallel|ReadAll|ReplayAsOf|ServeAsOf|CommunityPage|CommunityJSON|RebuildAll|CommandLatency)$'}
BENCHSTAT=golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

if [ -z "${DATABASE_URL:-}" ]; then
  exec bash "$here/with-pg.sh" bash "$0" "$@"
fi
base_sha=$(git rev-parse --verify "$BASE^{commit}") || { echo "bench-compare: no such ref: $BASE (set BASE=<ref>)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'git worktree remove --force "$tmp/base" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add --detach "$tmp/base" "$base_sha" >/dev/null
run() { # DIR OUT
  echo "bench-compare: $2 ($(cd "$1" && git rev-parse --short HEAD)$( [ "$1" = "$root" ] && [ -n "$(git status --porcelain)" ] && echo ', with uncommitted changes'))" >&2
  # Only the packages that define one of the benchmarks: compiling the others twice is most of the time.
  local names pkgs
  names=$(sed -E 's/^\^Benchmark//; s/\$$//' <<<"$BENCH")
  pkgs=$(cd "$1" && grep -rlE "^func Benchmark${names}\(" --include='*_test.go' . | xargs -r -n1 dirname | sort -u)
  [ -n "$pkgs" ] || { echo "bench-compare: no package in $1 defines $BENCH" >&2; : >"$2"; return; }
  # shellcheck disable=SC2086
  (cd "$1" && go test -run '^$' -bench "$BENCH" -benchmem -count "$COUNT" -p 1 $pkgs 2>&1 | grep -E '^(Benchmark|goos|goarch|pkg|cpu)') >"$2" || true
}
run "$tmp/base" bench-base.txt
run "$root" bench-head.txt
go run "$BENCHSTAT" base=bench-base.txt head=bench-head.txt
