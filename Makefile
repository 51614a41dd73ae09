# Trellis: `make run` starts a dev agent, `make test` runs every test, `make bench` the benchmarks.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)

.PHONY: all deps configure build run test test-asan bench demo fuzz clean format

all: build

deps:
	@./scripts/deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/src/bin/trellis agent -dev

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -j 2

# trellis-proxy's data-plane tests again under AddressSanitizer and UBSan: connections, mux
# sessions and streams hand each other raw pointers across event batches. CI runs it after
# `make test`.
ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
test-asan: deps
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="$(ASAN_FLAGS)" \
	  -DCMAKE_EXE_LINKER_FLAGS="$(ASAN_FLAGS)"
	cmake --build build-asan -j $(JOBS) --target proxy_data_test proxy_data_integration_test
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest -R '^proxy_data' --output-on-failure \
	  --timeout 900

bench: build
	./bench/run.sh

# Two demo services with trellis-proxy sidecars; intentions allow, deny, allow live.
demo: build
	./demo/demo.sh

# libFuzzer builds with clang (optional; `make test` replays the corpora with the normal build).
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTRELLIS_LIBFUZZER=ON
	cmake --build build-fuzz -j $(JOBS) --target fuzz_all

format:
	find src fuzz bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) build-fuzz build-asan
