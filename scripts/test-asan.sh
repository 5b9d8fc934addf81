#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/ and runs the test suite against it (RNNBLAS_ADDON points the
# loader at it). Node itself is not instrumented, so the ASan runtime is
# preloaded; leak detection is off because V8 keeps memory until exit.
set -euo pipefail
cd "$(dirname "$0")/.."
npx cmake-js compile --out build-asan --debug --CDRNNBLAS_SANITIZE=ON
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
export LD_PRELOAD="$asan:$ubsan"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export RNNBLAS_ADDON="$PWD/build-asan/Debug/rnnblas.node"
npx vitest run "$@"
