#!/usr/bin/env bash
# with-pg.sh CMD... — run CMD with DATABASE_URL set.
# When the caller set DATABASE_URL, CMD uses it. Otherwise a throwaway cluster is started in a fresh
# temporary directory on a free port, and stopped and removed when CMD ends, whether it passed, failed
# or was interrupted. Clusters left behind by a run that was killed outright are swept on the next run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -gt 0 ] || { echo "usage: $0 CMD..." >&2; exit 2; }

if [ -n "${DATABASE_URL:-}" ]; then
  echo "with-pg: using DATABASE_URL from the environment" >&2
  exec "$@"
fi

base=${TMPDIR:-/tmp}
# Sweep throwaway clusters whose owner process is gone (kill -9, a closed terminal).
for d in "$base"/ledger-pg.*; do
  [ -f "$d/owner.pid" ] || continue
  [ -d "/proc/$(cat "$d/owner.pid")" ] && continue
  bash "$here/pg.sh" stop "$d" >/dev/null 2>&1 || true
  rm -rf "$d"
done

tmp=$(mktemp -d "$base/ledger-pg.XXXXXX")
echo $$ >"$tmp/owner.pid"
cleanup() {
  bash "$here/pg.sh" stop "$tmp" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

DATABASE_URL=$(bash "$here/pg.sh" start "$tmp" auto)
export DATABASE_URL
"$@"
