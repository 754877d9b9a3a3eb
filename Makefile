# netstrata — see README.md. Every target installs what it needs.
SHELL := /bin/bash
GO ?= go
BIN := bin/netstrata
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GOBIN_DIR := $(shell $(GO) env GOPATH)/bin
# Fuzz time per target in `make test` (longer in `make fuzz`).
FUZZTIME ?= 5s
TEST_TIMEOUT ?= 30m

.PHONY: all build run test unit fuzz bench generate lint demo clean deps test-deps console console-test

all: build

# The web console (console/): built with npm from its lockfile into
# console/dist/app, which the binary embeds; rebuilt when its sources
# change.
CONSOLE_SRC := $(shell find console/src console/e2e -type f 2>/dev/null) console/index.html console/package.json console/package-lock.json console/vite.config.ts console/tsconfig.json
console/dist/app/index.html: $(CONSOLE_SRC)
	cd console && npm ci --no-audit --no-fund --loglevel=error && npm run build

console: console/dist/app/index.html

# Vitest: the console's URL state and filter completion.
console-test: console
	cd console && npm test

build: console
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/netstrata

# Build and run everything on embedded Kafka + ClickHouse, on loopback.
run: build
	bash scripts/fetch-chdb.sh >/dev/null
	$(BIN) standalone --config $(or $(CONFIG),deploy/standalone.yaml)

test-deps:
	bash scripts/test-deps.sh

# The one test command (CI runs exactly this): installs the real peers,
# runs every test with them required, then each fuzz target briefly.
# The end-to-end test (cmd/netstrata) runs alone afterwards: its eBPF agent
# sees every socket of the machine, and the other packages' tests make
# traffic of their own.
test: test-deps console-test
	NETSTRATA_REQUIRE_PEERS=1 $(GO) test -count=1 -p 2 -timeout $(TEST_TIMEOUT) $$($(GO) list ./... | grep -v '/cmd/netstrata$$')
	NETSTRATA_REQUIRE_PEERS=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./cmd/netstrata
	bash scripts/fuzz.sh $(FUZZTIME)

# Fuzz every target for longer.
fuzz:
	bash scripts/fuzz.sh 2m

# Benchmarks and soak runs, with figures; not part of `make test`.
bench: test-deps build
	bash scripts/bench.sh

# Rebuild generated code: protobuf records and bpf2go objects.
generate:
	command -v protoc >/dev/null || bash scripts/test-deps.sh
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	PATH="$(GOBIN_DIR):$$PATH" $(GO) generate ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v -E '(_bpfe[lb]\.go|\.pb\.go)$$'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

demo: build test-deps
	bash scripts/demo.sh

clean:
	rm -rf bin var console/dist/app console/node_modules
