# Build, run and test ngx_http_webhooks (see util/ and t/).

PROVE ?= prove
PROVE_FLAGS ?= -j1

.PHONY: all deps build run test test-san valgrind bench fuzz clean npm

all: build

deps:
	util/deps

build: deps
	util/build

run: build
	util/run

# Octokit, pinned by t/package-lock.json, drives the API as a GitHub client.
npm:
	@test -d t/node_modules/@octokit/rest -a -d t/node_modules/@octokit/webhooks || \
	npm ci --no-audit --no-fund --prefix t

test: build npm
	$(PROVE) $(PROVE_FLAGS) -r t/

test-san: deps npm
	SAN=1 util/build
	WEBHOOKS_SAN=1 $(PROVE) $(PROVE_FLAGS) -r t/

valgrind: build npm
	WEBHOOKS_VALGRIND=1 $(PROVE) $(PROVE_FLAGS) -r t/

bench: build
	util/bench

# libFuzzer harnesses of t/fuzz, about a minute in all: FUZZ_SECONDS each
fuzz: deps
	util/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build
