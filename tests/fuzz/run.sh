#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined) in
# build-fuzz/ and runs each for a bounded time on a copy of its seed corpus.
#   tests/fuzz/run.sh [--seconds-per-target N] [--targets a,b] [--build-dir DIR]
#                     [--jobs N] [-- extra libFuzzer flags]
# Exits non-zero when a target crashes, leaks, times out or fails to build; the
# input that did it is kept in DIR/crashes/<target>/ (replay it with
# DIR/tests/fuzz/fuzz_<target> FILE; once fixed, add it to the seeds with
# tests/fuzz/add_seed.sh). New inputs stay in DIR/corpus/<target>/, so a second
# run goes on from there. Ends with executions per target.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

secs=20
targets=""
bdir=build-fuzz
jobs=$(nproc)
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
  --seconds-per-target) secs="$2"; shift 2 ;;
  --targets) targets="$2"; shift 2 ;;
  --build-dir) bdir="$2"; shift 2 ;;
  --jobs) jobs="$2"; shift 2 ;;
  --) shift; extra=("$@"); break ;;
  *) echo "usage: $0 [--seconds-per-target N] [--targets a,b] [--build-dir DIR] [--jobs N] [-- libFuzzer flags]" >&2; exit 2 ;;
  esac
done

# The build dependencies, then clang and its runtime libraries
# (libclang_rt.fuzzer comes with libclang-rt-14-dev, which clang-14 only
# recommends; Debian's libfuzzer-14-dev is the standalone libFuzzer.a, which
# -fsanitize=fuzzer does not use).
bash deploy/setup-debian.sh
need=()
command -v clang >/dev/null 2>&1 || need+=(clang)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed" ||
  need+=(libclang-rt-14-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing: ${need[*]}" >&2
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

all=$(awk '/^set\(SG_FUZZ_TARGETS/,/\)/' tests/fuzz/CMakeLists.txt |
  sed 's/set(SG_FUZZ_TARGETS//; s/)//' | tr -s ' \n' ' ')
if [ -z "$targets" ]; then
  targets="$all"
else
  targets="${targets//,/ }"
  for t in $targets; do
    case " $all " in *" $t "*) ;; *) echo "unknown target '$t' (have:$all)" >&2; exit 2 ;; esac
  done
fi

CC=clang cmake -S . -B "$bdir" -DSG_BUILD_FUZZERS=ON -DSG_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
build_targets=()
for t in $targets; do build_targets+=("fuzz_$t"); done
cmake --build "$bdir" -j"$jobs" --target "${build_targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
declare -A execs
for t in $targets; do
  corpus="$bdir/corpus/$t"
  crashes="$bdir/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  log="$bdir/fuzz-$t.log"
  echo "== fuzz_$t: ${secs}s" >&2
  rc=0
  "$bdir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$crashes/" "${extra[@]}" \
    "$corpus" >"$log" 2>&1 || rc=$?
  execs[$t]=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    tail -n 60 "$log" >&2
    echo "fuzz_$t FAILED (exit $rc); input kept in $crashes/, log in $log" >&2
  fi
done

echo
printf '%-14s %12s  %s\n' target executions result
for t in $targets; do
  r=ok
  case " ${failed[*]:-} " in *" $t "*) r=FAILED ;; esac
  printf '%-14s %12s  %s\n' "$t" "${execs[$t]:-?}" "$r"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}" >&2
  exit 1
fi
