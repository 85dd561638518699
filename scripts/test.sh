#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit and end to end). The unit tests are
# first built again with AddressSanitizer and UndefinedBehaviorSanitizer (build-sanitize/,
# -DFERRY_SANITIZE=ON) and run there: memory errors, leaks and undefined behaviour fail CI.
# Only the unit tests (ctest label "unit"): the e2e tests would take far longer under ASan.
# The full suite runs last, so that its summary line (every test) is the last one printed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRY_SANITIZE=ON \
  "${launcher[@]}" >/dev/null
cmake --build build-sanitize --target ferry_unit_tests
# halt_on_error: an undefined-behaviour report fails its test instead of scrolling by.
(cd build-sanitize &&
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest -j2 -L unit --output-on-failure)

scripts/build.sh
cd build
ctest -j2 --output-on-failure
