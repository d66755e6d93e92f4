#!/usr/bin/env bash
# run.sh — start the persistent PostgreSQL cluster (unless DATABASE_URL is set) and exec `ledger serve`.
# Settings come from the Makefile: LEDGER_DATA (.ledger), PG_DIR (.ledger/pg), PG_PORT (54329), HTTP (127.0.0.1:8080),
# NODE_LISTEN (127.0.0.1:2113).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=${LEDGER_DATA:-.ledger}
pgdir=${PG_DIR:-$data/pg}
pgport=${PG_PORT:-54329}
http=${HTTP:-127.0.0.1:8080}
# The embedded node listens on a fixed loopback port so other tools (ledger rebuild/verify/replay, any
# EventStoreDB client) can reach it while serve holds its data file: EVENTSTORE_URL=esdb://$node?tls=false
node=${NODE_LISTEN:-127.0.0.1:2113}
# DEMO=0 starts on an empty ledger; otherwise an empty store gets the demo district (seed 1, 78 communities).
demo=()
[ "${DEMO:-1}" = 0 ] || demo=(--demo)
bin=${LEDGER_BIN:-bin/ledger}

[ -x "$bin" ] || { echo "error: $bin is missing: run 'make build'" >&2; exit 1; }
mkdir -p "$data"
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL=$(bash "$here/pg.sh" start "$pgdir" "$pgport")
  export DATABASE_URL
  echo "run: PostgreSQL read models at $DATABASE_URL (data in $pgdir; it keeps running after the ledger stops: 'make stop')" >&2
else
  echo "run: using DATABASE_URL from the environment" >&2
fi
echo "run: $bin serve --data $data --http $http --node-listen $node ${demo[*]}" >&2
exec "$bin" serve --data "$data" --http "$http" --node-listen "$node" "${demo[@]}"
