# A thin front for CMake. `make demo` and `make check` install what is missing first
# (scripts/bootstrap), so both work on a fresh Debian machine.
BUILD   ?= build
CHECK   ?= $(BUILD)/check
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all bootstrap check unit integration demo install clean format

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

demo: bootstrap all
	scripts/demo

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
