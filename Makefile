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

# Broker tests (tests/brokers/test-*.sh, docs/brokers.md): garaged and garagectl against other
# brokers and clusters, which take minutes to start, so they are not in `make check`. Each
# installs what it needs (as scripts/bootstrap does) and says SKIP, exiting 77, only where that
# cannot be had; the test build's binaries ($(CHECK)/bin) are the ones tested.
.PHONY: check-brokers
check-brokers: bootstrap $(CHECK)/CMakeCache.txt
	cmake --build $(CHECK) -j$(JOBS)
	@pass=0; fail=0; skipped=0; \
	for t in tests/brokers/test-*.sh; do \
		echo "== $$t"; start=$$(date +%s); \
		GARAGED_BIN=$(abspath $(CHECK))/bin timeout 900 bash $$t; rc=$$?; \
		echo "== $$t: exit $$rc in $$(( $$(date +%s) - start )) s"; \
		case $$rc in 0) pass=$$((pass + 1)) ;; 77) skipped=$$((skipped + 1)) ;; *) fail=$$((fail + 1)) ;; esac; \
	done; \
	echo "check-brokers: $$pass passed, $$fail failed, $$skipped skipped"; \
	[ $$fail -eq 0 ]

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

# A Debian package built with Debian's tools (debian/), from a copy of the tree in
# $(BUILD)/deb-src, since dpkg-buildpackage writes to the parent directory: the package lands
# in $(BUILD)/garaged_*.deb. Installs its build dependencies first when any is missing.
.PHONY: deb
deb:
	@dpkg-checkbuilddeps >/dev/null 2>&1 || { \
		echo "deb: installing the build dependencies (apt-get build-dep ./)"; \
		s=; [ "$$(id -u)" -eq 0 ] || s=sudo; \
		DEBIAN_FRONTEND=noninteractive $$s apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$s apt-get build-dep -y -qq ./; }
	rm -rf $(BUILD)/deb-src $(BUILD)/garaged_*.deb $(BUILD)/garaged-dbgsym_*.deb \
		$(BUILD)/garaged_*.changes $(BUILD)/garaged_*.buildinfo
	mkdir -p $(BUILD)/deb-src
	tar --exclude=./.git --exclude=./build --exclude='./$(BUILD)' --exclude=./web/node_modules \
		--exclude=./tests/web/node_modules -cf - . | tar -C $(BUILD)/deb-src -xf -
	cd $(BUILD)/deb-src && dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/garaged_*.deb

# The system test (docs/testing-system.md): the package built for Debian 12 and 13, installed in
# a VM of each (QEMU, images cached in /var/cache/garaged-system) with systemd and a gpio-sim
# chip, set up as README and docs/setup.md say, and checked running under its own unit. Needs
# root. Where QEMU cannot run at all, tests/system/run.sh says why and exits 77, which passes
# here as a skip. SYSTEM_DISTROS=bookworm runs one release.
SYSTEM_DISTROS ?= bookworm trixie
.PHONY: check-system
check-system:
	@GARAGED_SYSTEM_OUT=$(abspath $(BUILD))/system tests/system/run.sh $(SYSTEM_DISTROS); \
		rc=$$?; [ $$rc -ne 77 ] || rc=0; exit $$rc

# Benchmarks (bench/, docs/performance.md): SPEC "Performance" against a local Mosquitto with
# mTLS, one `name value unit` line each, then a table beside references and targets. They only
# measure (a missed target does not fail them) and are no part of `make check`.
# `make footprint`: the portable core cross-compiled for the ESP8266, `size -t` of its objects.
# `make bench-fleet [N=200]`: N garaged on one Mosquitto, each its own certificate (bench/fleet.sh:
# cold start, reconnect storm, latency to random doors, memory per device; the storm drawn in
# $(BUILD)/bench-fleet/online.png). N is 1 to 254.
.PHONY: bench bench-fleet footprint $(BUILD)/bench/verify
N ?= 200
$(BUILD)/bench/verify:
	mkdir -p $(BUILD)/bench
	$(CC) -O2 -Wall -Wextra -o $(BUILD)/bench/verify bench/verify.c \
		$$(pkg-config --cflags --libs libsodium)

# The stages build (src/common/stage.h) beside the release one, and the channel hop's floor.
bench: bootstrap all $(BUILD)/bench/verify
	$(CC) -O2 -Wall -Wextra -o $(BUILD)/bench/hop bench/hop.c
	cmake -S . -B $(BUILD)/stages -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGARAGED_STAGES=ON \
		-DGARAGED_TESTS=OFF -DGARAGED_WEB=OFF
	cmake --build $(BUILD)/stages -j$(JOBS) --target garaged garaged-net
	bench/run.sh $(BUILD)

bench-fleet: bootstrap all $(BUILD)/bench/verify
	bench/fleet.sh $(BUILD) $(N)

footprint:
	bench/footprint.sh $(BUILD)/footprint

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
