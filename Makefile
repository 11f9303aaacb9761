# A thin front for CMake. `make demo` and `make check` install what is missing first
# (scripts/bootstrap), so both work on a fresh Debian machine.
BUILD   ?= build
CHECK   ?= $(BUILD)/check
FUZZ    ?= $(BUILD)/fuzz
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
# Seconds each fuzz target runs in `make fuzz`; FUZZ_TARGETS=cmd runs only some of them.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

.PHONY: all bootstrap check unit integration demo install clean format fuzz fuzz-smoke

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX)

bootstrap:
	@scripts/bootstrap

# The test build: every test, unit and integration, runs against binaries built with
# AddressSanitizer and UndefinedBehaviorSanitizer.
$(CHECK)/CMakeCache.txt:
	cmake -S . -B $(CHECK) -DCMAKE_BUILD_TYPE=Debug -DGARAGED_SANITIZE=ON

check: bootstrap $(CHECK)/CMakeCache.txt all
	cmake --build $(CHECK) -j$(JOBS)
	cd $(CHECK) && ctest --output-on-failure -j$(JOBS)
	$(MAKE) fuzz-smoke

# libFuzzer targets (docs/fuzzing.md): built with clang in their own build directory, each run
# for FUZZ_SECONDS on a copy of its seed corpus; any crash fails. Only the fuzzers are built
# there, so the rest of the tree does not need to compile with clang.
$(FUZZ)/CMakeCache.txt:
	CC=clang cmake -S . -B $(FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGARAGED_FUZZ=ON \
		-DGARAGED_TESTS=OFF

fuzz: bootstrap $(FUZZ)/CMakeCache.txt
	cmake --build $(FUZZ) -j$(JOBS) --target fuzzers
	tests/fuzz/run.sh $(FUZZ) $(FUZZ_SECONDS) $(JOBS) $(FUZZ_TARGETS)

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=5

demo: bootstrap all
	scripts/demo

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
