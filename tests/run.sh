#!/bin/sh
# run.sh BUILD: run every unit test binary in BUILD/tests and the end-to-end
# CLI tests (tests/e2e.sh) against BUILD/sensi; print "N passed, N failed"
# and exit non-zero if anything failed.
BUILD=${1:-build}
cd "$(dirname "$0")/.." || exit 2
pass=0
fail=0
failed=""
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    if "$t" >"$BUILD/tests/$name.log" 2>&1; then
        pass=$((pass + 1))
        echo "PASS $name"
        grep '^measured:' "$BUILD/tests/$name.log"
    else
        fail=$((fail + 1))
        failed="$failed $name"
        echo "FAIL $name"
        cat "$BUILD/tests/$name.log"
    fi
done
for e in tests/e2e*.sh; do
    name=$(basename "$e" .sh)
    if sh "$e" "$BUILD/sensi" >"$BUILD/tests/$name.log" 2>&1; then
        pass=$((pass + 1))
        echo "PASS $name ($(grep -c '^ok ' "$BUILD/tests/$name.log") checks)"
        grep '^measured:' "$BUILD/tests/$name.log"
    else
        fail=$((fail + 1))
        failed="$failed $name"
        echo "FAIL $name"
        cat "$BUILD/tests/$name.log"
    fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
