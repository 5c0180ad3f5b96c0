# loadcell — the two commands a new machine needs are `make demo` and `make test`.
# Everything else here is what they are built from.
BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= $(shell nproc)

.PHONY: all setup configure build demo test test-asan test-tsan fuzz bench clean

all: build

setup:
	@bash scripts/setup.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: setup
	@$(MAKE) --no-print-directory build
	@bash scripts/demo.sh $(BUILD)/loadcell

# The whole suite: unit tests, fuzzers for a few seconds, end-to-end tests against
# real servers (built-in target, nginx) and the cross-check with hdr-histogram-js.
test: setup
	@$(MAKE) --no-print-directory build
	cd tests/js && npm ci --no-audit --no-fund --silent
	cd $(BUILD) && ctest --output-on-failure -j 2

# The whole suite again on an ASan+UBSan build (build-asan/). SAN_LABELS (a ctest -L regex)
# selects by label: CI runs 'unit|sanitize' — unit tests, parsers, protocol and hostile-input
# suites — and leaves out the files whose truth is timing or RSS on an idle machine (labels
# in CMakeLists.txt) and the fuzzers (ASan+UBSan builds already, run by `make test`).
# SAN_EXCLUDE (a ctest -E regex) leaves out more by name.
SAN_LABELS ?= .
SAN_EXCLUDE ?= ^$$
test-asan: setup
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLOADCELL_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd tests/js && npm ci --no-audit --no-fund --silent
	cd build-asan && ctest --output-on-failure -j 2 -L '$(SAN_LABELS)' -E '$(SAN_EXCLUDE)'

# The same with ThreadSanitizer (build-tsan/): the workers, the collector, the live server.
# TSan slows the generator 5-15x, so the tests whose truth is a rate, a latency bound or
# an RSS bound are left out by default (they run in `make test` and under ASan in CI);
# every other test fails on a race report (TSan exits 66).
TSAN_EXCLUDE ?= ^fuzz\.|test_steady_memory|test_soak|test_ci_jobs|test_stall|test_compare|test_findings|test_monitor|test_quick_target|test_run$$|test_hostile|^example\.
test-tsan: setup
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLOADCELL_TSAN=ON
	cmake --build build-tsan -j $(JOBS)
	cd tests/js && npm ci --no-audit --no-fund --silent
	cd build-tsan && ctest --output-on-failure -j 2 -E '$(TSAN_EXCLUDE)'

# libFuzzer runs longer than in `make test`: make fuzz FUZZ_SECONDS=300
FUZZ_SECONDS ?= 60
fuzz: build
	@for f in $(BUILD)/fuzz_*; do echo "== $$f"; $$f -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus/$$(basename $$f | sed 's/^fuzz_//') || exit 1; done

bench: setup build
	@bash bench/run.sh $(BUILD)/loadcell

clean:
	rm -rf $(BUILD)
