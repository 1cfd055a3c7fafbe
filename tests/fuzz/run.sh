#!/bin/sh
# tests/fuzz/run.sh: build the libFuzzer targets tests/fuzz/fuzz_*.c with
# clang (ASan + UBSan + libFuzzer) against the library sources and run each
# for a bounded time on a copy of its corpus; `make fuzz` and CI call it.
#
#   FUZZ_SECONDS=60    time per target (-max_total_time)
#   FUZZ_RUNS=N        stop a target after N executions instead (offline runs;
#                      FUZZ_SECONDS then still bounds it, set it high)
#   FUZZ_TARGETS="fuzz_idx fuzz_spec"   a subset (default: every target)
#   FUZZ_BUILD=build-fuzz               objects, binaries, logs, artifacts
#   FUZZ_KEEP_CORPUS=DIR               keep the grown corpora under DIR
#   FUZZ_SEED=1        libFuzzer's seed: CI explores the same inputs each run
#                      (a new crash means new code, not a new draw); set
#                      another for offline runs
#   FUZZ_SANITIZE=address,undefined   the sanitizers (offline runs of the
#                      slow database targets may drop address: several times
#                      the executions an hour, UBSan still on; use its own
#                      FUZZ_BUILD, the objects are not rebuilt for a change)
#   FUZZ_TIMEOUT=10    seconds of wall time one input may take; raise it only
#                      for runs under `nice` on a loaded machine, where a
#                      starved process times out on a fast input (rerun any
#                      timeout artifact alone to tell)
#
# Each target runs on a copy of tests/fuzz/corpus/<target>/ in a temp folder
# (the committed corpus is never grown), with -timeout=10 (a hang is an
# input slower than 10 s; FUZZ_TIMEOUT), -rss_limit_mb=2048 and libFuzzer's
# leak check.
# A crash, sanitizer report, failed check, leak, timeout or out-of-memory
# stops that target with its reproducer in FUZZ_BUILD/artifacts/ and makes
# this script exit 1 after the remaining targets ran. Prints per target:
#   measured: fuzz_X N execs in S s, 0 crashes (cov C, ft F, corpus A -> B)
# Does not: grow the committed corpus, or minimise crashes (run the binary:
# FUZZ_BUILD/fuzz_X -minimize_crash=1 -runs=10000 ARTIFACT).
cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
export LC_ALL=C # the logs hold the inputs' raw bytes: parse them as bytes
B=${FUZZ_BUILD:-build-fuzz}
SECS=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null 2>&1 || {
    echo "fuzz: $CC not found (Debian: apt-get install clang libclang-rt-dev; make setup does)" >&2
    exit 2
}
PKGS="openblas zlib libcjson liblbfgs libpng sqlite3"
PKG_CFLAGS=$(pkg-config --cflags $PKGS) || exit 2
PKG_LIBS=$(pkg-config --libs $PKGS) || exit 2
SAN="-fsanitize=${FUZZ_SANITIZE:-address,undefined} -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=gnu11 -O1 -g -Wall -Wextra -Wno-sign-compare -fno-fast-math $SAN $PKG_CFLAGS"
# clang 14 names a target_clones function's ifunc "f.ifunc", so calls from
# other files (act_forward in src/nn/act.c) do not link (fixed in clang 15):
# the fuzz build needs no AVX2 clone, so the attribute is emptied here.
LIBFLAGS="-D'target_clones(...)='"
mkdir -p "$B/obj" "$B/artifacts" || exit 2

# --- the library, instrumented for coverage (fuzzer-no-link) ---
# every library folder (src/*/ but the CLI), as the Makefile's LIB_SRC
lib_src=$(ls src/*/*.c | grep -v '^src/cli/')
newest_hdr=$(ls -t src/*/*.h | head -1)
jobs=$(nproc 2>/dev/null || echo 2)
objs=""
pids=""
n=0
for src in src/core/*.c src/data/*.c src/nn/*.c src/sens/*.c src/study/*.c src/analysis/*.c src/report/*.c; do
    obj="$B/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
    objs="$objs $obj"
    if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_hdr" -nt "$obj" ] ||
       [ "$0" -nt "$obj" ]; then
        # shellcheck disable=SC2086
        eval "$CC $CFLAGS $LIBFLAGS -fsanitize=fuzzer-no-link -c $src -o $obj" &
        pids="$pids $!"
        n=$((n + 1))
        if [ "$n" -ge "$jobs" ]; then
            for p in $pids; do wait "$p" || exit 1; done
            pids=""
            n=0
        fi
    fi
done
for p in $pids; do wait "$p" || exit 1; done
rm -f "$B/libsensi-fuzz.a"
# shellcheck disable=SC2086
ar rcs "$B/libsensi-fuzz.a" $objs || exit 1

# --- the targets ---
targets=${FUZZ_TARGETS:-$(for f in tests/fuzz/fuzz_*.c; do basename "$f" .c; done)}
for t in $targets; do
    [ -f "tests/fuzz/$t.c" ] || { echo "fuzz: no target tests/fuzz/$t.c" >&2; exit 2; }
    # shellcheck disable=SC2086
    $CC $CFLAGS -fsanitize=fuzzer "tests/fuzz/$t.c" "$B/libsensi-fuzz.a" -o "$B/$t" \
        $PKG_LIBS -lm -lpthread || exit 1
done

# --- the runs ---
export SENSI_FUZZ_DB="$ROOT/tests/fuzz/corpus/fuzz_store/fit8-p512.db"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fail=0
failed=""
for t in $targets; do
    # scratch files of the loaders in /dev/shm when there is one; all of it
    # is removed after the target, even when a crash skipped its cleanup
    tmpbase=${TMPDIR:-/tmp}
    [ -d /dev/shm ] && [ -w /dev/shm ] && tmpbase=/dev/shm
    work=$(mktemp -d "$tmpbase/sensi-fuzz-$t.XXXXXX") || exit 2
    export SENSI_FUZZ_SCRATCH="$work"
    mkdir -p "$work/corpus"
    [ -d "tests/fuzz/corpus/$t" ] && cp "tests/fuzz/corpus/$t"/* "$work/corpus/" 2>/dev/null
    seeds=$(ls "$work/corpus" | wc -l)
    dict=""
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    runs=""
    [ -n "$FUZZ_RUNS" ] && runs="-runs=$FUZZ_RUNS"
    log="$B/$t.log"
    rm -f "$B/artifacts/$t-"*
    # the inputs this target once failed on (tests/fuzz/crashes/<name>-*,
    # all fixed) run first, as regression tests: any failure stops here
    name=${t#fuzz_}
    repro=$(ls tests/fuzz/crashes/"$name"-* 2>/dev/null)
    if [ -n "$repro" ]; then
        # shellcheck disable=SC2086
        if ! "$B/$t" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 $repro >"$log.repro" 2>&1; then
            fail=$((fail + 1))
            failed="$failed $t(crashes/)"
            echo "FAIL $t on a saved reproducer:"
            grep -E 'Running:|ERROR|SUMMARY|runtime error' "$log.repro" | head -10
            rm -rf "$work"
            continue
        fi
        echo "ok $t: $(echo "$repro" | wc -l) saved reproducers pass"
    fi
    # shellcheck disable=SC2086
    "$B/$t" -max_total_time="$SECS" $runs -seed="${FUZZ_SEED:-1}" \
        -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" $dict \
        "$work/corpus" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^stat::total_time_sec: *//p' "$log" 2>/dev/null | tail -1)
    [ -n "$secs" ] || secs=$(grep -o 'in [0-9]* second' "$log" | tail -1 | grep -o '[0-9]*')
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    [ -n "$secs" ] || { [ -n "$rate" ] && [ "$rate" -gt 0 ] && secs=$(( ${execs:-0} / rate )); }
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corp=$(ls "$work/corpus" | wc -l)
    if [ "$rc" -eq 0 ]; then
        crashes=0
        echo "PASS $t"
    else
        crashes=1
        fail=$((fail + 1))
        failed="$failed $t"
        echo "FAIL $t (exit $rc); reproducer: $(ls "$B/artifacts/$t-"* 2>/dev/null | tail -1)"
        grep -E 'ERROR|SUMMARY|fuzz check failed|runtime error|Test unit written' "$log" | head -20
        tail -40 "$log"
    fi
    echo "measured: $t ${execs:-?} execs in ${secs:-?} s (${rate:-?}/s), $crashes crashes (cov ${cov:-?}, ft ${ft:-?}, corpus $seeds -> $corp)"
    if [ -n "$FUZZ_KEEP_CORPUS" ]; then
        mkdir -p "$FUZZ_KEEP_CORPUS/$t" && cp "$work/corpus"/* "$FUZZ_KEEP_CORPUS/$t/" 2>/dev/null
    fi
    rm -rf "$work"
done
[ "$fail" -eq 0 ] || { echo "fuzz: $fail target(s) failed:$failed" >&2; exit 1; }
