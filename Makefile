# berth: build, demo, test, generated files, bench, lint, install.
PREFIX ?= /usr/local
CARGO ?= cargo
# The tool binaries, as the root Cargo.toml declares them.
TOOLS := $(shell awk '/^\[\[bin\]\]/{getline; gsub(/name = |"/,""); print}' Cargo.toml)

## fuzz: the readers of untrusted input (compose, interpolation, Project JSON), longer than
## the bounded run `make test` does. FUZZ_CASES inputs, FUZZ_SEED to vary them.
FUZZ_CASES ?= 100000
FUZZ_SEED ?= 196

.PHONY: all build release demo test test-fast test-e2e snapshots fuzz generated man completions check-generated bench lint install uninstall clean

all: build

build:
	$(CARGO) build --workspace

release:
	$(CARGO) build --workspace --release

## The main job in a temp BERTH_HOME: register projects, find port conflicts.
demo: release
	@sh scripts/demo.sh target/release

## Every test: unit tests, the tools as a user runs them, generated files, and a
## bounded fuzz run (tests/fuzz.rs, 1000 inputs).
test:
	$(CARGO) test --workspace --no-fail-fast

## The test binaries of the root Cargo.toml; the slow end-to-end ones (stacks
## booted, databases dumped and killed, pipelines' steps run) apart from the rest.
## Neither skips anything under CI=true; `make test` runs both and the doc tests.
TESTS := $(shell awk '/^\[\[test\]\]/{getline; gsub(/name = |"/,""); print}' Cargo.toml)
E2E_TESTS := stacks_boot day dbdump_kill dbdump stackctl stackctl_plan podman cigen_run secrets secrets_e2e secrets_kill shared shared_router migrate
FAST_TESTS := $(filter-out $(E2E_TESTS),$(TESTS))

test-e2e:
	$(CARGO) test --no-fail-fast $(addprefix --test ,$(E2E_TESTS))

test-fast:
	$(CARGO) test --workspace --no-fail-fast --lib --bins $(addprefix --test ,$(FAST_TESTS))

## Rewrite the CLI snapshots (tests/cmd/) from what the tools print now, and the
## help cases from the clap definitions; review `git diff tests/cmd` and commit.
snapshots:
	TRYCMD=overwrite $(CARGO) test --test cli_snapshots

## Fuzz the readers for longer (debug build: overflow checks stay on).
fuzz:
	BERTH_FUZZ_CASES=$(FUZZ_CASES) BERTH_FUZZ_SEED=$(FUZZ_SEED) $(CARGO) test --test fuzz -- --nocapture

## Regenerate man pages and shell completions from the clap definitions, and
## the JSON Schemas (schemas/) from the Rust types.
generated man completions:
	$(CARGO) run -q -p xtask -- --mode write

check-generated:
	$(CARGO) run -q -p xtask -- --mode check

## Measured figures (hyperfine when installed), written to target/bench.
bench: release
	@sh bench/run.sh target/release

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	for t in $(TOOLS); do install -m 0755 target/release/$$t $(DESTDIR)$(PREFIX)/bin/$$t; \
	  install -m 0644 completions/$$t.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t; \
	  install -m 0644 completions/_$$t $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t; \
	  install -m 0644 completions/$$t.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish; done
	install -m 0644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$t $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish \
	  $(DESTDIR)$(PREFIX)/share/man/man1/$$t.1 $(DESTDIR)$(PREFIX)/share/man/man1/$$t-*.1; done

clean:
	$(CARGO) clean
