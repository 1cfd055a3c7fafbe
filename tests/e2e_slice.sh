#!/bin/sh
# e2e_slice.sh SENSI: end-to-end tests of `sensi slice` on Fashion-MNIST:
# train a small network, render its region picture, check the JSON, the PNG
# (signature, IHDR size, 8-bit RGB) and the error cases (exit 2, one line).
# Each check prints "ok NAME" or "FAIL NAME: why"; exit 1 on any failure.
SENSI=${1:-./sensi}
cd "$(dirname "$0")/.." || exit 2
. tests/lib_e2e.sh
e2e_init slice
# pngsize FILE: "WIDTH HEIGHT BITDEPTH COLORTYPE" from the IHDR chunk (python3 stdlib)
pngsize() { python3 -c 'import struct,sys
b=open(sys.argv[1],"rb").read(33)
assert b[:8]==b"\x89PNG\r\n\x1a\n" and b[12:16]==b"IHDR", "not a PNG"
w,h,bd,ct=struct.unpack(">IIBB",b[16:26]); print(w,h,bd,ct)' "$1"; }

$SENSI slice --help >"$T/h" && grep -q -- '--res N.*\[512\]' "$T/h" && grep -q -- '--margin F.*\[0.25\]' "$T/h" \
    && ok slice-help || bad slice-help "defaults not listed"

$SENSI train --train-size 1000 --width 64 --steps 300 -q -o "$T/m.safetensors" >/dev/null 2>"$T/err" \
    || bad train "exit $?: $(cat "$T/err")"

# --- a 128 x 128 slice through training points 1, 2, 3 ---
$SENSI slice "$T/m.safetensors" --anchors 1,2,3 --res 128 -q -o "$T/s.png" >"$T/out" 2>"$T/err" \
    || bad slice "exit $?: $(cat "$T/err")"
pycheck slice-json 'j["model"].endswith("m.safetensors") and j["res"] == 128 and j["output"].endswith("s.png") and j["seconds"] >= 0 and [a["index"] for a in j["anchors"]] == [1, 2, 3]'
# labels of positions 1..3 in the Fashion-MNIST training file: 0, 0, 3
pycheck slice-labels '[a["label"] for a in j["anchors"]] == [0, 0, 3]'
pycheck slice-regions 'isinstance(j["regions"], int) and 2 <= j["regions"] <= 128 * 128'
pycheck slice-anchor-pixels '[a["pixel"] for a in j["anchors"]] == [[21, 106], [106, 106], [21, 21]]'
[ -f "$T/s.png" ] && [ "$(pngsize "$T/s.png")" = "128 128 8 2" ] && ok png-size \
    || bad png-size "expected a 128x128 8-bit RGB PNG, got '$(pngsize "$T/s.png" 2>&1)'"
ls "$T" | grep -q '\.tmp\.' && bad no-temp "temp file left: $(ls "$T")" || ok no-temp
cp "$T/out" "$T/s1.json"

# same anchors, same picture; res 255 samples a superset of the res 128 grid
# (half the step), so it sees at least as many regions
$SENSI slice "$T/m.safetensors" --anchors 1,2,3 --res 128 -q -o "$T/s2.png" >/dev/null 2>&1
cmp -s "$T/s.png" "$T/s2.png" && ok deterministic || bad deterministic "two runs gave different PNGs"
r1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["regions"])' "$T/s1.json")
$SENSI slice "$T/m.safetensors" --anchors 1,2,3 --res 255 --margin 0.25 -q -o "$T/s3.png" >"$T/out" 2>&1
pycheck finer-res "j['regions'] >= $r1 and j['res'] == 255"

# default anchors: three training points of different classes, from --seed
$SENSI slice "$T/m.safetensors" --res 64 --seed 5 -q -o "$T/d.png" >"$T/out" 2>"$T/err" \
    || bad default-anchors "exit $?: $(cat "$T/err")"
pycheck default-anchors 'len(set(a["label"] for a in j["anchors"])) == 3 and all(0 <= a["index"] < 1000 for a in j["anchors"])'
[ "$(pngsize "$T/d.png")" = "64 64 8 2" ] && ok default-png || bad default-png "$(pngsize "$T/d.png" 2>&1)"
echo "measured: slice res 128 of a depth-3 width-64 net: $r1 regions"

# --- errors: exit 2, one line ---
expect_fail anchor-range "out of range" $SENSI slice "$T/m.safetensors" --anchors 1,2,60000 -o "$T/x.png"
expect_fail anchor-repeat "repeated" $SENSI slice "$T/m.safetensors" --anchors 1,2,1 -o "$T/x.png"
expect_fail anchor-two "three" $SENSI slice "$T/m.safetensors" --anchors 1,2 -o "$T/x.png"
expect_fail anchor-four "three" $SENSI slice "$T/m.safetensors" --anchors 1,2,3,4 -o "$T/x.png"
expect_fail anchor-junk "not an integer" $SENSI slice "$T/m.safetensors" --anchors 1,b,3 -o "$T/x.png"
expect_fail res-small "out of range" $SENSI slice "$T/m.safetensors" --res 1 -o "$T/x.png"
expect_fail res-big "out of range" $SENSI slice "$T/m.safetensors" --res 8193 -o "$T/x.png"
expect_fail bad-output "cannot write" $SENSI slice "$T/m.safetensors" --res 16 -o "$T/nodir/x.png"
# outputs are checked before the work; a directory is not a PNG
expect_fail output-is-dir "is a directory" $SENSI slice "$T/m.safetensors" --res 16 -q -o "$T"
expect_fail output-empty "output path is empty" $SENSI slice "$T/m.safetensors" --res 16 -q -o ""
expect_fail output-checked-first "cannot write the image" $SENSI slice "$T/m.safetensors" --res 16 -q -o "$T/nodir/x.png" --data-dir "$T/nowhere"
# anchors come from the model's training subset (1000 examples), as in
# transitions: position 5000 of the file is refused by both
expect_fail anchor-outside-subset "training subset is positions 0..999" $SENSI slice "$T/m.safetensors" --anchors 1,2,5000 --res 16 -q -o "$T/x.png"
expect_fail anchor-outside-subset-transitions "training subset is positions 0..999" $SENSI transitions "$T/m.safetensors" --trajectory ellipse --anchors 1,2,5000
expect_fail anchor-hex "not an integer" $SENSI slice "$T/m.safetensors" --anchors 1,2,0x3 --res 16 -q -o "$T/x.png"
expect_fail no-output "-o" $SENSI slice "$T/m.safetensors" --res 16
expect_fail no-model "cannot open" $SENSI slice "$T/none.safetensors" -o "$T/x.png"
[ -e "$T/x.png" ] && bad no-partial-output "x.png written by a failed run" || ok no-partial-output

[ "$FAILS" -eq 0 ] || exit 1
