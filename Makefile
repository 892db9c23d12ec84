# qvmeter's build. `make demo` and `make test` are the two commands a fresh
# machine needs (see README.md); the rest are for developers.

GO        ?= go
BIN       := bin/qvmeter
DATA      ?= qvmeter-data
BENCHTIME ?= 3x
FUZZTIME  ?= 5m
BENCHDIR  ?= $(CURDIR)/.bench

.PHONY: all build test bench fuzz demo fixtures lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/qvmeter

# Test artifacts (the browser test's screenshots of index.html at 1400 and 400 px) are kept in
# test-output/.
test:
	mkdir -p test-output
	$(GO) test -count=1 -artifacts -outputdir $(CURDIR)/test-output ./...

# Benchmarks on generated logs (written to $(BENCHDIR), not committed).
bench: build
	QVMETER_BENCH_DIR=$(BENCHDIR) $(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -timeout 60m ./...

# Fuzz the session-log decoder for $(FUZZTIME).
fuzz:
	$(GO) test ./parse -run '^$$' -fuzz '^FuzzDecoder$$' -fuzztime $(FUZZTIME)

# Run the nightly job on the bundled sample logs and licence.
demo: build
	./scripts/demo.sh $(BIN) $(DATA)

# Regenerate the committed sample estate under fixtures/estate.
fixtures: build
	./scripts/fixtures.sh $(BIN)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin $(DATA) $(BENCHDIR) test-output
