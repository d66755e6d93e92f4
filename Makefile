# The README's two commands are `make run` and `make test`; `make help` lists the rest.
# Without DATABASE_URL, `make test` and `make bench` start a throwaway PostgreSQL cluster (removed afterwards)
# and `make run` a persistent one under .ledger/pg. Helpers live in scripts/.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO ?= go
BIN := bin/ledger
LEDGER_DATA ?= .ledger
PG_DIR ?= $(LEDGER_DATA)/pg
PG_PORT ?= 54329
HTTP ?= 127.0.0.1:8080
# `make test` must finish within 15 minutes; scripts/test.sh says which tests run under the race detector.
TESTFLAGS ?= -timeout 14m
# The linter `make lint` and `make test` run, pinned.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# After the tests, scripts/fuzz.sh fuzzes each target for FUZZTIME.
FUZZTIME ?= 15s
export FUZZTIME
# Benchmarks run one package at a time so they do not disturb each other; BENCHFLAGS='-count 6' for benchstat.
BENCHFLAGS ?= -count 1 -timeout 60m

NODE_LISTEN ?= 127.0.0.1:2113
export LEDGER_DATA PG_DIR PG_PORT HTTP NODE_LISTEN

.PHONY: help deps build test run bench bench-compare stop clean fmt vet lint postgres chromium

help: ## list the targets
	@echo "make run    build, start PostgreSQL under $(PG_DIR) and serve http://$(HTTP)/"
	@echo "make test   vet, gofmt check and go test -race against a throwaway PostgreSQL"
	@echo
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'
	@echo
	@echo "Settings: DATABASE_URL (use this database, start none), EVENTSTORE_URL (a real EventStoreDB),"
	@echo "          PG_DIR=$(PG_DIR) PG_PORT=$(PG_PORT) HTTP=$(HTTP) TESTFLAGS='$(TESTFLAGS)' FUZZTIME=$(FUZZTIME)"

deps: ## check Go and download the modules
	@bash scripts/prereq.sh go
	@$(GO) mod download

build: deps ## build bin/ledger
	$(GO) build -o $(BIN) ./cmd/ledger

test: deps chromium ## gofmt check, go vet, staticcheck, go test -race, then bounded fuzzing (throwaway PostgreSQL unless DATABASE_URL is set)
	@files=$$(find . -name '*.go' -not -path './.git/*' -not -path './.ledger/*' -not -path '*/testdata/*' -not -path '*/node_modules/*' | xargs -r gofmt -l); \
	if [ -n "$$files" ]; then echo "error: gofmt wants to change these files (run 'make fmt'):" $$files >&2; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@GO=$(GO) TESTFLAGS='$(TESTFLAGS)' bash scripts/with-pg.sh bash scripts/test.sh

run: build ## start PostgreSQL under .ledger/pg (unless DATABASE_URL is set) and serve the ledger
	@bash scripts/run.sh

bench: deps ## benchmarks against a throwaway PostgreSQL; benchstat-friendly, also written to bench.txt
	@bash scripts/with-pg.sh $(GO) test -run '^$$' -bench . -benchmem -p 1 $(BENCHFLAGS) ./... | tee bench.txt

bench-compare: deps ## the headline benchmarks here and on BASE (default: the last release tag, else HEAD~1), as benchstat ratios
	@bash scripts/bench-compare.sh

stop: ## stop the PostgreSQL cluster that `make run` started
	@bash scripts/pg.sh stop $(PG_DIR)

postgres: ## install PostgreSQL's server binaries if missing (apt-get, as root)
	@bash scripts/prereq.sh postgres

chromium: ## install Debian's Chromium for the browser tests if missing (warns when it cannot)
	@bash scripts/prereq.sh chromium

fmt: ## gofmt the Go files
	@find . -name '*.go' -not -path './.git/*' -not -path './.ledger/*' -not -path '*/testdata/*' -not -path '*/node_modules/*' | xargs -r gofmt -l -w

vet: ## go vet
	$(GO) vet ./...

lint: vet ## go vet and staticcheck (the pinned version, fetched through the Go module proxy on first use)
	$(GO) run $(STATICCHECK) ./...

clean: ## remove build and test outputs (not .ledger/, which holds the ledger's data)
	rm -rf bin bench.txt artifacts
