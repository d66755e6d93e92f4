#!/usr/bin/env bash
# pg.sh — a small PostgreSQL cluster in a directory of ours, from the OS's own binaries.
# The same logic serves `make test` (a throwaway cluster in a temporary directory) and
# `make run` (a persistent one under .ledger/pg).
#
#   pg.sh start DIR PORT|auto   initdb DIR/pgdata if missing, start it on 127.0.0.1:PORT (auto: a free port),
#                               create database "ledger" if missing, print its DATABASE_URL on stdout.
#                               Already running: prints the URL of the running cluster.
#   pg.sh stop DIR              stop the cluster in DIR (nothing to do when it is not running)
#   pg.sh url DIR [PORT]        print the DATABASE_URL (PORT defaults to the one it last started on)
#   pg.sh status DIR            exit 0 and print the port when running, exit 3 when not
#
# Layout: DIR/pgdata (the cluster), DIR/sock (its unix socket), DIR/postgres.log, DIR/port.
# As root, initdb/postgres run as the "postgres" system user (they refuse root); otherwise as the caller.
# Authentication is "trust" and the server listens on 127.0.0.1 only: a development cluster.
# Extra server options: PG_EXTRA_OPTS="-c shared_buffers=256MB".
# Only the URL goes to stdout; everything else goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DB=ledger

die() { echo "pg.sh: error: $*" >&2; exit 1; }
note() { echo "pg.sh: $*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }

# The C.UTF-8 locale is built into Debian's glibc; fall back to C where it is absent.
if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then LOC=C.UTF-8; else LOC=C; fi

# as_pg CMD... runs CMD as the cluster's owner, from / (the caller's directory may be closed to that user).
as_pg() {
  if is_root; then
    (cd / && runuser -u postgres -- env LC_ALL="$LOC" LANG="$LOC" "$@")
  else
    (cd / && env LC_ALL="$LOC" LANG="$LOC" "$@")
  fi
}

# bindir_for PGDATA: the binaries of the cluster's own major version when it exists, else the newest.
bindir_for() {
  local pgdata=$1 v d
  if [ -f "$pgdata/PG_VERSION" ]; then
    v=$(cat "$pgdata/PG_VERSION")
    d=/usr/lib/postgresql/$v/bin
    if [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  fi
  bash "$here/prereq.sh" pg-bindir
}

url_for() { echo "postgres://postgres@127.0.0.1:$1/$DB?sslmode=disable"; }

running_port() { # PGDATA -> prints the port of the running postmaster, fails when it is not running
  local pgdata=$1 bindir=$2
  [ -f "$pgdata/postmaster.pid" ] || return 1
  as_pg "$bindir/pg_ctl" -D "$pgdata" status >/dev/null 2>&1 || return 1
  sed -n 4p "$pgdata/postmaster.pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  # Below Linux's ephemeral range (32768-60999) so outgoing connections do not take it meanwhile.
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 12000))
    port_busy "$p" || { echo "$p"; return 0; }
  done
  die "found no free TCP port on 127.0.0.1 between 20000 and 32000"
}

ensure_user() {
  is_root || return 0
  id -u postgres >/dev/null 2>&1 && return 0
  note "creating the postgres system user"
  useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres ||
    die "cannot create the postgres system user: run 'useradd --system --user-group postgres'"
}

# check_reach DIR: as root, the postgres user must be able to enter every parent of DIR.
check_reach() {
  local dir=$1 a="" part blk=""
  is_root || return 0
  as_pg test -x "$dir" -a -w "$dir" && return 0
  IFS=/ read -ra parts <<<"${dir#/}"
  for part in "${parts[@]}"; do
    a="$a/$part"
    if ! as_pg test -x "$a"; then blk=$a; break; fi
  done
  blk=${blk:-$dir}
  die "the postgres system user cannot enter $blk (mode $(stat -c %a "$blk"), owner $(stat -c %U "$blk")), so PostgreSQL cannot use $dir: run 'chmod o+x $blk', or put the cluster in a directory it can reach (make run PG_DIR=/var/lib/ledger/pg; TMPDIR=/tmp make test), or set DATABASE_URL"
}

cmd_start() {
  [ $# -eq 2 ] || die "usage: pg.sh start DIR PORT|auto"
  local dir port want pgdata sock log bindir have ver try before opts out ctl
  dir=$(realpath -m "$1")
  want=$2
  case "$want" in auto | [0-9]*) ;; *) die "PORT must be a number or 'auto', not '$want'" ;; esac
  case "$dir" in *"'"* | *'"'* | *' '*) die "the cluster directory must not contain spaces or quotes: $dir" ;; esac
  pgdata=$dir/pgdata sock=$dir/sock log=$dir/postgres.log

  bash "$here/prereq.sh" postgres
  ensure_user
  mkdir -p "$dir"
  if is_root; then
    chown postgres: "$dir"
    # A cluster copied or restored by root, or a postgres uid that changed: give it back to postgres.
    if [ -d "$pgdata" ] && [ "$(stat -c %U "$pgdata")" != postgres ]; then chown -R postgres: "$pgdata"; fi
  fi
  chmod 0700 "$dir"
  check_reach "$dir"
  bindir=$(bindir_for "$pgdata")

  if port=$(running_port "$pgdata" "$bindir"); then
    if [ "$want" != auto ] && [ "$want" != "$port" ]; then
      note "the cluster in $dir is already running on port $port (not $want); using it"
    fi
  else
    if [ ! -f "$pgdata/PG_VERSION" ]; then
      rm -rf "$pgdata" # what a failed initdb may have left
      if ! as_pg "$bindir/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --locale="$LOC" \
        --no-instructions >"$dir/initdb.log" 2>&1; then
        tail -n 20 "$dir/initdb.log" >&2
        die "initdb failed (full output in $dir/initdb.log)"
      fi
    fi
    ver=$(cat "$pgdata/PG_VERSION")
    have=$("$bindir/postgres" --version | sed -n 's/.* \([0-9][0-9]*\)[.].*/\1/p')
    [ "$ver" = "$have" ] ||
      die "the cluster in $pgdata was made by PostgreSQL $ver but only PostgreSQL $have is installed: install postgresql-$ver, or remove $dir to start afresh (its data is lost)"
    mkdir -p "$sock"
    is_root && chown postgres: "$sock"
    chmod 0700 "$sock"
    # A unix socket path is limited to 107 bytes; a deep DIR gets TCP only.
    if [ $((${#sock} + 17)) -gt 100 ]; then sock=""; fi

    for try in $(seq 1 20); do
      if [ "$want" = auto ]; then port=$(free_port); else port=$want; fi
      before=$(stat -c %s "$log" 2>/dev/null || echo 0)
      opts="-p $port -k '$sock' -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200 ${PG_EXTRA_OPTS:-}"
      if ctl=$(as_pg "$bindir/pg_ctl" -D "$pgdata" -l "$log" -w -t 60 -s -o "$opts" start 2>&1); then
        break
      fi
      out=$(tail -c +$((before + 1)) "$log" 2>/dev/null || true)
      if grep -qiE 'address already in use|could not create any TCP/IP sockets|could not bind' <<<"$out"; then
        if [ "$want" = auto ] && [ "$try" -lt 20 ]; then
          note "port $port was taken meanwhile; trying another"
          continue
        fi
        die "port $port on 127.0.0.1 is taken by another program: stop it or choose another port (make run PG_PORT=$((port + 1)))"
      fi
      printf '%s\n%s\n' "$ctl" "$out" | tail -n 20 >&2
      die "PostgreSQL did not start (log: $log)"
    done
  fi
  echo "$port" >"$dir/port"

  # The application database, once.
  export PGSSLMODE=disable PGCONNECT_TIMEOUT=10
  unset PGSERVICE PGOPTIONS PGDATABASE PGUSER PGPASSWORD
  local q=("$bindir/psql" -X -q -t -A -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
  if [ -z "$("${q[@]}" -c "select 1 from pg_database where datname = '$DB'")" ]; then
    "${q[@]}" -c "create database $DB" >/dev/null
  fi
  note "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, database $DB (cluster in $dir)"
  url_for "$port"
}

cmd_stop() {
  [ $# -eq 1 ] || die "usage: pg.sh stop DIR"
  local dir pgdata bindir
  dir=$(realpath -m "$1")
  pgdata=$dir/pgdata
  [ -f "$pgdata/postmaster.pid" ] || return 0
  bindir=$(bindir_for "$pgdata") || return 0
  running_port "$pgdata" "$bindir" >/dev/null || return 0
  as_pg "$bindir/pg_ctl" -D "$pgdata" -m fast -w -t 60 -s stop >&2
}

cmd_url() {
  if [ $# -lt 1 ] || [ $# -gt 2 ]; then die "usage: pg.sh url DIR [PORT]"; fi
  local dir port
  dir=$(realpath -m "$1")
  port=${2:-$(cat "$dir/port" 2>/dev/null || true)}
  [ -n "$port" ] || die "no port recorded in $dir/port: pass one (pg.sh url DIR PORT) or start the cluster"
  url_for "$port"
}

cmd_status() {
  [ $# -eq 1 ] || die "usage: pg.sh status DIR"
  local dir pgdata bindir
  dir=$(realpath -m "$1")
  pgdata=$dir/pgdata
  if bindir=$(bindir_for "$pgdata" 2>/dev/null) && running_port "$pgdata" "$bindir"; then return 0; fi
  note "not running: $dir"
  exit 3
}

sub=${1:-}
[ $# -gt 0 ] && shift
case "$sub" in
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  url) cmd_url "$@" ;;
  status) cmd_status "$@" ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
