#!/bin/sh
# demo.sh: `make demo`: the scaled-down study on this machine, then the report.
# Runs every laptop-sized study spec in studies/ that this machine has data
# for (MNIST and Fashion-MNIST; CIFAR only when $SENSI_DATA_DIR holds it),
# each into demo-out/<study>.db with a progress bar, draws the region slice
# of the region-slice network, and writes demo-out/report/index.html; ends
# with the paper's claims, what was measured, and whether each held.
# Rerunning resumes: finished runs are kept in the databases (a database
# of an older results schema is renamed <study>.old-schema.db and swept
# afresh).
# Environment: SENSI_DEMO_STUDIES (space-separated study names, default all),
# SENSI_DEMO_OUT (default demo-out), SENSI_DEMO_SPECS (the folder of the
# study specs, default studies; the tests use their own), SENSI (the binary,
# default ./sensi).
set -e
cd "$(dirname "$0")/.."
OUT=${SENSI_DEMO_OUT:-demo-out}
SPECS=${SENSI_DEMO_SPECS:-studies}
SENSI=${SENSI:-./sensi}
mkdir -p "$OUT"
STUDIES=${SENSI_DEMO_STUDIES:-"onoff-manifold region-slice factor-labels factor-augment factor-activation factor-optimizer gap-fashion gap-mnist gap-labelnoise per-point xent-bounds gap-cifar10 gap-cifar100"}
start=$(date +%s)
dbs=""
for s in $STUDIES; do
    case $s in
    gap-cifar10 | gap-cifar100)
        # CIFAR cannot be downloaded here: only when its files are present
        "$SENSI" sweep "$SPECS/$s.json" --db "$OUT/$s.db" --dry-run >/dev/null 2>&1 || {
            echo "demo: skipping $s (no ${s#gap-} files under \$SENSI_DATA_DIR)"
            continue
        }
        ;;
    esac
    # a database an older sensi wrote (another results schema) takes no
    # more runs: keep it beside, under another name, and sweep afresh
    db="$OUT/$s.db"
    if [ -f "$db" ] && ! "$SENSI" sweep "$SPECS/$s.json" --db "$db" --dry-run >/dev/null 2>"$OUT/.check"; then
        if grep -q "results schema version" "$OUT/.check"; then
            old="$OUT/$s.old-schema.db"
            for x in "" -wal -shm; do
                [ -f "$db$x" ] && mv -f "$db$x" "$old$x"
            done
            echo "demo: $db was written by an older sensi (another results schema): kept as $old, sweeping afresh"
        else
            cat "$OUT/.check" >&2
            exit 2
        fi
    fi
    rm -f "$OUT/.check"
    desc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["description"].split(":")[0])' "$SPECS/$s.json")
    echo "demo: $s: $desc ($(($(date +%s) - start)) s so far)"
    extra=""
    [ "$s" = region-slice ] && extra="--save-models $OUT/models"
    # shellcheck disable=SC2086
    "$SENSI" sweep "$SPECS/$s.json" --db "$OUT/$s.db" $extra >"$OUT/$s.json"
    dbs="$dbs $OUT/$s.db"
done
slice=""
if [ -f "$OUT/models/run-000000.safetensors" ]; then
    echo "demo: drawing the region slice of the region-slice network"
    "$SENSI" slice "$OUT/models/run-000000.safetensors" --anchors 0,1,2 --res 512 \
        -o "$OUT/slice.png" >"$OUT/slice.json"
    slice="--slice $OUT/slice.png"
fi
echo "demo: writing the report"
# shellcheck disable=SC2086
"$SENSI" report $dbs -o "$OUT/report" $slice
echo "demo: done in $(($(date +%s) - start)) s; open $OUT/report/index.html"
