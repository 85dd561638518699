#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -DFERRY_FUZZ=ON: every library instrumented, address and
# undefined-behaviour sanitizers) in build-fuzz/ and runs each for SECONDS, then prints per
# target: executions, coverage (cov/ft from libFuzzer's final line), crashes, and the CPU and
# wall-clock seconds it got.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]     e.g. tests/fuzz/run.sh 600, tests/fuzz/run.sh 60 disk_label
#
# Targets run one after another (a fuzzer takes one core). Each keeps its corpus in
# build-fuzz/corpus/TARGET/ (seeded from tests/fuzz/seeds/TARGET/ when that exists), so a
# second run goes on where the first stopped; crashing inputs land in
# build-fuzz/artifacts/TARGET/ and the log in build-fuzz/logs/TARGET.log. libFuzzer stops at
# the first crash: fix it, keep the input as a unit test, run again.
#
# Environment:
#   FERRY_FUZZ_CPU=1     SECONDS are CPU seconds, not wall-clock ones: on a shared (or niced)
#                        machine a fuzzer may get a fraction of a core, so the target is run
#                        again (same corpus) until it has used SECONDS of CPU
#   FERRY_FUZZ_NICE=N    run the fuzzers under `nice -n N` (a shared machine)
#   FERRY_FUZZ_NO_BUILD=1  skip the build (another run.sh already built)
#   FERRY_FUZZ_ARGS      more libFuzzer flags (e.g. -rss_limit_mb=4096)
# Exit status: 0 if no target crashed, 1 if one did, 2 on a usage or build error.
set -euo pipefail
cd "$(dirname "$0")/../.."

all_targets=(pack_header index_object tree_object snapshot_object config_object key_file_object
             sealed_object disk_manifest staging_info vault_json_body import_job_body disk_label
             tree_walk)

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 SECONDS [TARGET...]   (targets: ${all_targets[*]})" >&2
  exit 2
fi
seconds=$1
shift
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")
for target in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $target "* ]] || { echo "$0: no fuzz target '$target'" >&2; exit 2; }
done
command -v /usr/bin/time >/dev/null || { echo "$0: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

build=build-fuzz
if [[ ${FERRY_FUZZ_NO_BUILD:-0} != 1 ]]; then
  command -v clang++ >/dev/null || { echo "$0: needs clang (apt-get install clang)" >&2; exit 2; }
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFERRY_FUZZ=ON "${launcher[@]}" >/dev/null || exit 2
  cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" || exit 2
fi

# Undefined behaviour is a finding, as a crash is: halt (libFuzzer keeps the input).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
nice_prefix=()
[[ -n ${FERRY_FUZZ_NICE:-} ]] && nice_prefix=(nice -n "$FERRY_FUZZ_NICE")
mkdir -p "$build/logs"
status=0
summary=()
for target in "${targets[@]}"; do
  corpus=$build/corpus/$target artifacts=$build/artifacts/$target log=$build/logs/$target.log
  mkdir -p "$corpus" "$artifacts"
  seeds=()
  [[ -d tests/fuzz/seeds/$target ]] && seeds=(tests/fuzz/seeds/"$target")
  before=$(find "$artifacts" -type f | wc -l)
  : >"$log"
  cpu=0 wall=0 execs=0 last="" rounds=0
  echo "fuzzing $target for ${seconds}s$([[ ${FERRY_FUZZ_CPU:-0} == 1 ]] && echo " of CPU") (log: $log)" >&2
  while :; do
    left=$((seconds - (${FERRY_FUZZ_CPU:-0} == 1 ? ${cpu%.*} : wall)))
    ((left > 0)) || break
    ((left >= 10 || rounds == 0)) || break # not worth reloading the corpus for
    round=$build/logs/$target.round
    # Not `set -e` here: a crash is a finding to report, not the end of the run.
    # shellcheck disable=SC2086
    /usr/bin/time -f '%e %U %S' -o "$round.time" "${nice_prefix[@]}" \
      "$build/tests/fuzz/fuzz_$target" -max_total_time="$left" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" ${FERRY_FUZZ_ARGS:-} "$corpus" "${seeds[@]}" >"$round" 2>&1 || true
    cat "$round" >>"$log"
    rounds=$((rounds + 1))
    read -r e u s < <(tail -n 1 "$round.time")
    wall=$((wall + ${e%.*}))
    cpu=$(awk -v a="$cpu" -v u="$u" -v s="$s" 'BEGIN { printf "%.0f", a + u + s }')
    n=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$round" | grep -oE '[0-9]+$' || true)
    # libFuzzer's last status line: "#123456  DONE  cov: 812 ft: 2301 corp: ..." (or the last
    # "pulse"/"NEW" line when it stopped at a crash).
    line=$(grep -E '^#[0-9]+' "$round" | tail -n 1 || true)
    [[ -n $line ]] && last=$line
    [[ -n $n ]] || n=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
    execs=$((execs + ${n:-0}))
    (($(find "$artifacts" -type f | wc -l) == before)) || break # a crash: stop and report
    [[ ${FERRY_FUZZ_CPU:-0} == 1 ]] || break
  done
  rm -f "$build/logs/$target.round" "$build/logs/$target.round.time"
  crashes=$(($(find "$artifacts" -type f | wc -l) - before))
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo "?")
  ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || echo "?")
  corp=$(find "$corpus" -type f | wc -l)
  ((crashes == 0)) || status=1
  summary+=("$(printf '%-16s execs %-11s cov %-6s ft %-7s corpus %-6s crashes %-3s cpu %ss wall %ss' \
    "$target" "$execs" "$cov" "$ft" "$corp" "$crashes" "$cpu" "$wall")")
  echo "${summary[-1]}" >&2
  ((crashes == 0)) || summary+=("  see $artifacts/ and $log")
done
printf '%s\n' "${summary[@]}"
exit $status
