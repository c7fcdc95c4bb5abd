#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
#   tests/run.sh              normal build in build/
#   tests/run.sh --sanitize   AddressSanitizer + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/setup-debian.sh

dir=build
flags=(-DSG_WERROR=ON)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  flags+=(-DSG_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi
cmake -S . -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Under the sanitizers every process is several times slower; the integration
# tests' timing assumptions (kill mid-run, Redis outages) hold only when they
# do not also share the cores with each other: one test at a time there.
jobs=$(nproc)
[ "$dir" = build-asan ] && jobs=1
# The sandbox counts a request inside a Retry-After window as a violation only
# after a grace for requests the gateway had sent before the throttling answer
# reached it (100 ms); an instrumented gateway can take longer to read that
# answer, so its grace is longer.
[ "$dir" = build-asan ] && export SG_SANDBOX_VIOLATION_GRACE_MS=${SG_SANDBOX_VIOLATION_GRACE_MS:-400}
ctest --test-dir "$dir" --output-on-failure -j"$jobs"
