#!/bin/sh
# demo.sh: `make demo`: the scaled-down study on this machine, then the report.
# Runs every laptop-sized study spec in studies/ that this machine has data
# for (MNIST and Fashion-MNIST; CIFAR only when $SENSI_DATA_DIR holds it),
# each into demo-out/<study>.db with a progress bar, draws the region slice
# of the region-slice network, and writes demo-out/report/index.html; ends
# with the paper's claims, what was measured, and whether each held.
# Rerunning resumes: finished runs are kept in the databases.
# Environment: SENSI_DEMO_STUDIES (space-separated study names, default all),
# SENSI_DEMO_OUT (default demo-out).
set -e
cd "$(dirname "$0")/.."
OUT=${SENSI_DEMO_OUT:-demo-out}
mkdir -p "$OUT"
STUDIES=${SENSI_DEMO_STUDIES:-"onoff-manifold region-slice factor-labels factor-augment factor-activation factor-optimizer gap-fashion gap-mnist gap-labelnoise per-point xent-bounds gap-cifar10 gap-cifar100"}
start=$(date +%s)
dbs=""
for s in $STUDIES; do
    case $s in
    gap-cifar10 | gap-cifar100)
        # CIFAR cannot be downloaded here: only when its files are present
        ./sensi sweep "studies/$s.json" --db "$OUT/$s.db" --dry-run >/dev/null 2>&1 || {
            echo "demo: skipping $s (no ${s#gap-} files under \$SENSI_DATA_DIR)"
            continue
        }
        ;;
    esac
    desc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["description"].split(":")[0])' "studies/$s.json")
    echo "demo: $s: $desc ($(($(date +%s) - start)) s so far)"
    extra=""
    [ "$s" = region-slice ] && extra="--save-models $OUT/models"
    # shellcheck disable=SC2086
    ./sensi sweep "studies/$s.json" --db "$OUT/$s.db" $extra >"$OUT/$s.json"
    dbs="$dbs $OUT/$s.db"
done
slice=""
if [ -f "$OUT/models/run-000000.safetensors" ]; then
    echo "demo: drawing the region slice of the region-slice network"
    ./sensi slice "$OUT/models/run-000000.safetensors" --anchors 0,1,2 --res 512 \
        -o "$OUT/slice.png" >"$OUT/slice.json"
    slice="--slice $OUT/slice.png"
fi
echo "demo: writing the report"
# shellcheck disable=SC2086
./sensi report $dbs -o "$OUT/report" $slice
echo "demo: done in $(($(date +%s) - start)) s; open $OUT/report/index.html"
