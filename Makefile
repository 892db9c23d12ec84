# qvmeter's build. `make demo` and `make test` are the two commands a fresh
# machine needs (see README.md); the rest are for developers.

GO        ?= go
BIN       := bin/qvmeter
DATA      ?= qvmeter-data
BENCHTIME ?= 3x
FUZZTIME  ?= 5m
BENCHDIR  ?= $(CURDIR)/.bench
PREFIX    ?= /usr/local
VERSION   ?=

.PHONY: all build test bench fuzz demo fixtures lint clean install uninstall release windows test-windows

all: build

# The commit is stamped so qvmeter version names it even where Go's own VCS
# stamping is off (-buildvcs=false); only release builds carry a version.
COMMIT := $(shell c=$$(git rev-parse --short=12 HEAD 2>/dev/null) && { git diff --quiet HEAD || c=$$c-dirty; }; echo $$c)

build:
	$(GO) build -ldflags "-X main.Commit=$(COMMIT)" -o $(BIN) ./cmd/qvmeter

# Test artifacts (the browser test's screenshots of index.html at 1400 and 400 px) are kept in
# test-output/. go test shows no skip message of a passing package, so the
# skipped browser test is announced here, after the results.
test:
	mkdir -p test-output
	@status=0; $(GO) test -count=1 -artifacts -outputdir $(CURDIR)/test-output ./... || status=$$?; \
	command -v chromium >/dev/null 2>&1 || \
		echo "SKIP: the browser test (reports: TestHTMLInBrowser) needs Chromium: apt-get install chromium"; \
	exit $$status

# Every benchmark, on logs generated once into $(BENCHDIR) (not committed;
# the scale benchmark's 1 and 3 GiB logs take 4 GiB), then the scale
# issue's figures next to their goals (scripts/bench.sh). Memory is each
# step's peak RSS in a child process.
bench: build
	QVMETER_BENCH_DIR=$(BENCHDIR) BENCHTIME=$(BENCHTIME) ./scripts/bench.sh

# Fuzz the session-log decoder, and its resume from any cut point, for
# $(FUZZTIME) each.
fuzz:
	$(GO) test ./parse -run '^$$' -fuzz '^FuzzDecoder$$' -fuzztime $(FUZZTIME)
	$(GO) test ./parse -run '^$$' -fuzz '^FuzzResume$$' -fuzztime $(FUZZTIME)

# Run the nightly job on the bundled sample logs and licence.
demo: build
	./scripts/demo.sh $(BIN) $(DATA)

# Install the binary into $(DESTDIR)$(PREFIX)/bin (Linux; see README.md).
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/qvmeter

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/qvmeter

# The release archives for Linux and Windows and their checksums in dist/
# (scripts/release.sh; installs Debian's MinGW-w64 and zip when missing).
release:
	@if [ -z "$(VERSION)" ]; then echo "usage: make release VERSION=x.y.z" >&2; exit 2; fi
	./scripts/release.sh $(VERSION)

# bin/qvmeter.exe, cross-compiled with Debian's MinGW-w64 (installed when
# missing); the first build takes minutes, later ones use Go's cache.
windows:
	./scripts/build-windows.sh bin/qvmeter.exe

# Run bin/qvmeter.exe under Wine (installed when missing) against the Linux
# binary: same reports from Windows paths, and the Windows lock.
test-windows: build windows
	./scripts/test-windows.sh bin/qvmeter.exe $(BIN)

# Regenerate the committed sample estate under fixtures/estate.
fixtures: build
	./scripts/fixtures.sh $(BIN)

# gofmt, go vet and staticcheck (pinned in go.mod as a tool), and deadcode
# on the non-test code: it may list only the exported API that
# scripts/deadcode-allow.txt justifies.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	./scripts/deadcode.sh

clean:
	rm -rf bin build dist $(DATA) $(BENCHDIR) test-output
