# Build, run and test ngx_http_webhooks (see util/ and t/).

PROVE ?= prove
PROVE_FLAGS ?= -j1

# make test SAN=1: the module built with ASan and UBSan (build/san), the
# tests run against it.  TESTS picks what to run: files, directories, or
# prefixes ("t/1" is every t/1*.t); all of t/ by default.
SAN ?= 0
TESTS ?= t/

ifeq ($(SAN),1)
TEST_ENV = WEBHOOKS_SAN=1
endif

# make test REDIS=cluster: each test's Redis is a local Redis Cluster (three
# masters, three replicas) and nginx talks to it with webhooks_redis_cluster
REDIS ?= single
TEST_ENV += WEBHOOKS_REDIS=$(REDIS)

tests = $(foreach t,$(TESTS),$(or $(wildcard $(t)),$(wildcard $(t)*.t),$(t)))

.PHONY: all deps build run test test-san valgrind bench fuzz clean npm deb test-deb

all: build

deps:
	util/deps

build: deps
	SAN=$(SAN) util/build

run: build
	util/run

# Octokit, Playwright and GitHub's OpenAPI descriptions, pinned by
# t/package-lock.json (installed again whenever the lock changes); the
# descriptions are cut to what the suite checks against (build/spec).
t/node_modules/.package-lock.json: t/package.json t/package-lock.json
	npm ci --no-audit --no-fund --prefix t
	@touch $@

npm: t/node_modules/.package-lock.json
	node t/octokit/spec.mjs build/spec

test: build npm
	$(TEST_ENV) $(PROVE) $(PROVE_FLAGS) -r $(tests)

test-san:
	$(MAKE) test SAN=1

valgrind: build npm
	WEBHOOKS_VALGRIND=1 $(PROVE) $(PROVE_FLAGS) -r t/

bench: build
	util/bench

# libFuzzer harnesses of t/fuzz, about a minute in all: FUZZ_SECONDS each
fuzz: deps
	util/fuzz $(FUZZ_SECONDS)

# libnginx-mod-http-webhooks in build/deb/, built by debian/rules (dh with
# dh_nginx) as dpkg-buildpackage would, but with nothing written outside
# the tree; lintian checks it.
deb: deps
	dpkg-checkbuilddeps
	rm -rf build/deb && mkdir -p build/deb
	debian/rules clean
	debian/rules binary
	lintian --fail-on error build/deb/libnginx-mod-http-webhooks_*.deb
	debian/rules clean

# installs the package into the system's nginx and tries it (as root)
test-deb: deb
	util/test-deb

clean:
	rm -rf build
