#!/usr/bin/env bash
# Installs the dependencies, builds atomfp, and runs every test: the suite in a release build
# (with the host programs Debian lacks, PLUMED and i-PI, when their archives are beside the project),
# the suite again under AddressSanitizer + UndefinedBehaviorSanitizer with GCC and with clang, and
# bounded fuzzing of the JSON specification parser, the extended XYZ reader, the model-file
# loader and the i-PI message loop (libFuzzer, clang).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/vendor-hosts.sh
jobs=$(nproc)

echo "== release build and tests"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DATOMFP_ENABLE_MPI=ON \
  -DATOMFP_VENDOR_DIR="$(realpath -m "${ATOMFP_VENDOR_DIR:-../shared/vendor}")"
cmake --build build -j "$jobs"
(cd build && ctest -j "$jobs" --output-on-failure)

# Without run-time dispatch here, so that the baseline copies of the dispatched kernels are tested
# on CPUs with AVX2 as well (the release build runs the AVX2 copies there; clang builds have none).
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests (baseline kernels)"
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATOMFP_SANITIZE=ON -DATOMFP_BUILD_BENCHMARKS=OFF \
  -DATOMFP_RUNTIME_DISPATCH=OFF
cmake --build build-sanitize -j "$jobs"
(cd build-sanitize && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest -j "$jobs" --output-on-failure)

# clang's UndefinedBehaviorSanitizer checks things GCC's does not (arithmetic on null pointers). The
# Fortran module is left out: gfortran cannot link clang's sanitizer runtimes; the GCC build above
# covers it.
echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests (clang)"
CC=clang CXX=clang++ cmake -S . -B build-sanitize-clang -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATOMFP_SANITIZE=ON \
  -DATOMFP_BUILD_BENCHMARKS=OFF -DATOMFP_BUILD_FORTRAN=OFF
cmake --build build-sanitize-clang -j "$jobs"
(cd build-sanitize-clang && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest -j "$jobs" --output-on-failure)

echo "== fuzzing (bounded)"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATOMFP_BUILD_FUZZERS=ON \
  -DATOMFP_BUILD_TESTING=OFF -DATOMFP_BUILD_BENCHMARKS=OFF -DATOMFP_ENABLE_OPENMP=OFF \
  -DATOMFP_BUILD_FORTRAN=OFF
cmake --build build-fuzz -j "$jobs" --target fuzz_spec fuzz_extxyz fuzz_model fuzz_ipi
for target in spec extxyz model ipi; do
  corpus=$(mktemp -d)
  cp tests/fuzz/corpus/$target/* "$corpus"/
  ./build-fuzz/tests/fuzz/fuzz_$target -runs=200000 -max_total_time=60 -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    "$corpus"
  rm -rf "$corpus"
done
echo "fuzzing: 4 passed, 0 failed"
