# lib_e2e.sh: helpers shared by the end-to-end scripts (tests/e2e*.sh), which
# source it after cd-ing to the repository root:
#   e2e_init TAG       make the scratch folder $T (removed on exit), FAILS=0
#   ok NAME / bad NAME WHY          record a check ("ok NAME" / "FAIL NAME: why")
#   json FILE KEY      a value of the one JSON object in FILE (KEY may be a.b)
#   expect_fail NAME TEXT CMD...    CMD must exit 2 with a one-line message containing TEXT
#   pycheck NAME EXPR  python expression over j (the JSON in $T/out) must be true
#   signal_wait PID SIG             send SIG to PID, wait for it (SIGKILL after
#                      60 s, so a binary that ignores SIG cannot hang the suite);
#                      rc = its exit status (137 if it had to be killed)
e2e_init() {
    T=$(mktemp -d "/tmp/sensi-e2e-$1.XXXXXX")
    trap 'rm -rf "$T"' EXIT
    FAILS=0
}
ok() { echo "ok $1"; }
bad() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }
json() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"; }
expect_fail() {
    name=$1 text=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -ne 2 ]; then bad "$name" "exit $rc, expected 2 ($(cat "$T/err"))"; return; fi
    if ! grep -q -- "$text" "$T/err"; then bad "$name" "message lacks '$text': $(cat "$T/err")"; return; fi
    if [ "$(wc -l <"$T/err")" -ne 1 ]; then bad "$name" "message is not one line: $(cat "$T/err")"; return; fi
    ok "$name"
}
pycheck() {
    if python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$2"; then
        ok "$1"
    else
        bad "$1" "$2 is false for $(cat "$T/out")"
    fi
}
signal_wait() {
    kill -"$2" "$1"
    ( sleep 60; kill -KILL "$1" 2>/dev/null ) &
    watchdog=$!
    wait "$1"
    rc=$?
    kill "$watchdog" 2>/dev/null
}
