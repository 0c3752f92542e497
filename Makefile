# Seer: the two commands a user needs are `make run` and `make test`.
# Everything else here is for developers.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
BIN := bin
# Where make keeps what it downloads (Cassandra, tool caches); git-ignored.
CACHE := .cache
THRIFT ?= thrift
# The module path prefix of generated Thrift code.
THRIFT_GO_OPTS := go:skip_remote,package_prefix=github.com/seer-qos/seer/
# The whole suite must fit CI (2 cores, 90 min); today it takes minutes.
TEST_TIMEOUT ?= 25m
# OpenXLA's CPU PJRT plugin (predictor/pjrt/install.sh puts it here); the
# predictor serves on XLA where it loads and says why where it does not.
PJRT_DIR := $(CURDIR)/$(CACHE)/pjrt/lib
export PJRT_PLUGIN_LIBRARY_PATH ?= $(PJRT_DIR)
export GOMLX_NO_AUTO_INSTALL := 1

.PHONY: all build run test test-short bench soak lint generate deps clean

all: build

## build: compile otelcol-seer and the seer CLI into bin/
build:
	$(GO) build -o $(BIN)/otelcol-seer ./otelcol-seer
	$(GO) build -o $(BIN)/seer ./cmd/seer

## run: start otelcol-seer on its embedded default config with the example services under load
run: build
	deploy/local/run.sh

## deps: install what the test suite needs that Go does not fetch itself
deps:
	@command -v $(THRIFT) >/dev/null || { \
	  echo "installing Debian's thrift-compiler (make generate, IDL drift test)"; \
	  apt-get update -qq && apt-get install -y -qq thrift-compiler >/dev/null; }
	predictor/pjrt/install.sh $(PJRT_DIR)

## test: the whole suite (installs what it needs; starts and stops real services itself), then the predictor built without cgo (XLA left out, simplego serves)
test: deps lint
	SEER_REQUIRE_XLA=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	SEER_REQUIRE_XLA=0 CGO_ENABLED=0 $(GO) test -count=1 ./predictor

## test-short: unit tests only, no external services
test-short:
	$(GO) test -short -count=1 ./...

## lint: formatting and vet
lint:
	@unformatted=$$(git ls-files '*.go' | xargs gofmt -l); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## bench: Go benchmarks (figures quoted in the README); not part of `make test`
bench:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 -count 1 -timeout 60m ./...

## soak: long memory soak tests (minutes); not part of `make test`
soak:
	$(GO) test -tags soak -run Soak -count=1 -timeout 30m ./...

## generate: regenerate Thrift code, component metadata and the otelcol-seer main from their sources
generate: deps
	cd idl && $(THRIFT) -r --gen $(THRIFT_GO_OPTS)idl/ -out . seer.thrift
	for f in $$(git ls-files 'examples/*.thrift'); do \
	  d=$$(dirname $$f); (cd $$d && $(THRIFT) -r --gen $(THRIFT_GO_OPTS)$$d/ -out . $$(basename $$f)); done
	for m in $$(git ls-files '*metadata.yaml'); do (cd $$(dirname $$m) && $(GO) tool mdatagen metadata.yaml); done
	rm -rf otelcol-seer/_build && mkdir -p otelcol-seer/_build/otelcol-seer
	cd otelcol-seer && $(GO) tool builder --config manifest.yaml --skip-compilation --skip-get-modules >/dev/null 2>&1
	for f in components.go main.go main_others.go main_windows.go; do \
	  gofmt otelcol-seer/_build/otelcol-seer/$$f > otelcol-seer/$$f; done
	rm -rf otelcol-seer/_build
	gofmt -w idl examples

clean:
	rm -rf $(BIN) otelcol-seer/_build
