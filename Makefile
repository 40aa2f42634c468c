# Thin wrapper over CMake for the two README commands:
#   make demo    install dependencies, build (release), run the main job
#   make check   install dependencies, build, run the whole test suite
# Other targets: build, build-matrix (gcc Debug and clang Release with
# -Werror, no tests), sanitize (clang + ASan/UBSan suite), fuzz, bench,
# install (PREFIX=...), clean.  All are idempotent.
BUILD    ?= build
ASAN     ?= build-asan
FUZZDIR  ?= build-fuzz
MATRIX   ?= build-matrix
PREFIX   ?= /usr/local
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 180
CMAKE_FLAGS ?=

.PHONY: all deps build build-matrix demo check install sanitize fuzz bench \
        clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@sh scripts/demo.sh $(BUILD)

check: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The compiler matrix CI adds to `make check` (gcc Release): gcc Debug
# (-O0 shows other warnings, e.g. format-truncation) and clang Release,
# both -Werror, tests compiled but not run.  clang Debug is `sanitize`.
build-matrix: deps
	cmake -S . -B $(MATRIX)/gcc-debug -DCMAKE_C_COMPILER=gcc \
	  -DCMAKE_BUILD_TYPE=Debug -DCYTOGATE_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(MATRIX)/gcc-debug -j $(JOBS)
	cmake -S . -B $(MATRIX)/clang-release -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_BUILD_TYPE=Release -DCYTOGATE_WERROR=ON $(CMAKE_FLAGS)
	cmake --build $(MATRIX)/clang-release -j $(JOBS)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

sanitize: deps
	CC=clang cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug \
	  -DCYTOGATE_SANITIZE=ON $(CMAKE_FLAGS)
	cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZDIR) -DCMAKE_BUILD_TYPE=Debug \
	  -DCYTOGATE_SANITIZE=ON -DCYTOGATE_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build $(FUZZDIR) -j $(JOBS)
	sh scripts/fuzz.sh $(FUZZDIR) $(FUZZ_SECONDS)

bench: build
	$(BUILD)/pipeline/cytogate bench

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZDIR) $(MATRIX)
