#!/usr/bin/env bash
# prereq.sh — checks (and, as root on Debian, installs) what the Makefile needs.
#
#   prereq.sh go         Go is on PATH and at least the version go.mod asks for
#   prereq.sh postgres   PostgreSQL server binaries (apt-get install postgresql-15 when missing)
#   prereq.sh chromium   /usr/bin/chromium and a CJK font for browser tests; only warns when they cannot be installed
#   prereq.sh race       prints "-race" when the race detector can be used (installs gcc if needed), else warns
#
# Every failure is one line on stderr that says what to do.
set -euo pipefail

die() { echo "error: $*" >&2; exit 1; }
warn() { echo "warning: $*" >&2; }
note() { echo "prereq: $*" >&2; }

is_root() { [ "$(id -u)" = 0 ]; }
can_apt() { is_root && command -v apt-get >/dev/null 2>&1; }

# apt_install PKG... — apt-get update, then install; quiet enough for CI logs, non-interactive.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  local opts=(-q -o DPkg::Lock::Timeout=600)
  local log
  log=$(mktemp "${TMPDIR:-/tmp}/ledger-apt.XXXXXX")
  note "installing $* with apt-get, once per machine (log: $log)"
  if apt-get "${opts[@]}" update >"$log" 2>&1 && apt-get "${opts[@]}" install -y "$@" >>"$log" 2>&1; then
    return 0
  fi
  tail -n 15 "$log" >&2
  return 1
}

# pg_bindir prints the directory of the newest PostgreSQL server binaries, or fails.
pg_bindir() {
  local d
  d=$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

check_go() {
  command -v go >/dev/null 2>&1 ||
    die "Go is not on PATH: install Go 1.26 or newer from https://go.dev/dl/ (e.g. into /usr/local/go) and add /usr/local/go/bin to PATH"
  local want have out
  want=$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' go.mod 2>/dev/null | head -n 1)
  want=${want:-1.26}
  if ! out=$(go env GOVERSION 2>&1); then
    die "Go cannot build this module (go.mod wants go $want): $(echo "$out" | head -n 1) — install Go $want or newer from https://go.dev/dl/"
  fi
  have=${out#go}
  have=${have%%[ -]*}
  case "$out" in devel*) return 0 ;; esac
  if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n 1)" != "$want" ]; then
    local hint=""
    [ "$(go env GOTOOLCHAIN 2>/dev/null)" = local ] && hint=" (or unset GOTOOLCHAIN=local so go can fetch it)"
    die "Go $have is too old: go.mod wants go $want or newer — install it from https://go.dev/dl/$hint"
  fi
}

check_postgres() {
  pg_bindir >/dev/null && return 0
  if can_apt; then
    # postgresql-15 on Debian 12; the 'postgresql' metapackage elsewhere.
    apt_install postgresql-15 || apt_install postgresql ||
      die "apt-get could not install PostgreSQL: fix apt (see above) or set DATABASE_URL to an existing database"
    pg_bindir >/dev/null && return 0
    die "PostgreSQL was installed but initdb was not found under /usr/lib/postgresql/*/bin: set DATABASE_URL to an existing database"
  fi
  die "PostgreSQL server binaries are missing: run 'sudo apt-get update && sudo apt-get install -y postgresql-15' (or set DATABASE_URL to an existing database)"
}

# has_cjk_font: the portal is Chinese; without a CJK font the browser tests' screenshots show empty boxes.
has_cjk_font() { command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=zh 2>/dev/null | head -n 1)" ]; }

check_chromium() {
  local want=()
  [ -x /usr/bin/chromium ] || want+=(chromium)
  has_cjk_font || want+=(fonts-wqy-microhei)
  [ ${#want[@]} -eq 0 ] && return 0
  if can_apt; then
    apt_install "${want[@]}" && [ -x /usr/bin/chromium ] && return 0
    warn "could not install ${want[*]} with apt-get: browser tests will fail; non-browser tests still run"
    return 0
  fi
  warn "${want[*]} missing and cannot be installed here (needs root and apt-get): run 'sudo apt-get install -y ${want[*]}' for the browser tests; non-browser tests still run"
}

check_race() {
  # The race detector needs cgo, which needs a C compiler.
  local cc
  cc=$(go env CC 2>/dev/null || echo gcc)
  if ! command -v "${cc%% *}" >/dev/null 2>&1 && can_apt; then
    apt_install gcc libc6-dev || true
  fi
  if [ "$(go env CGO_ENABLED 2>/dev/null)" = 1 ] && command -v "${cc%% *}" >/dev/null 2>&1; then
    echo "-race"
  else
    warn "race detector off: it needs cgo and a C compiler — 'apt-get install -y gcc' and leave CGO_ENABLED unset"
  fi
}

case "${1:-}" in
  go) check_go ;;
  postgres) check_postgres ;;
  pg-bindir) pg_bindir ;;
  chromium) check_chromium ;;
  race) check_race ;;
  *) echo "usage: $0 go|postgres|pg-bindir|chromium|race" >&2; exit 2 ;;
esac
