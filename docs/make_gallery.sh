#!/usr/bin/env bash
# Makes every picture of docs/gallery.md into docs/gallery/, with the commands the gallery quotes.
# Trains what it needs first (the lectures' MNIST network, 3 epochs; the Shakespeare LSTM) into runs/, unless
# runs/ already holds them. Needs the environment of ./test.sh (.venv with scikit-image's sample photos).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
OUT=docs/gallery
MNIST=runs/gallery-mnist
mkdir -p "$OUT"

# classic kernels over a photo
striate filter sobel-x chelsea --grayscale --out "$OUT/chelsea-sobel-x.png"
striate filter gaussian chelsea --out "$OUT/chelsea-gaussian.png"
striate filter sharpen chelsea --out "$OUT/chelsea-sharpen.png"
striate filter gabor chelsea --grayscale --out "$OUT/chelsea-gabor.png"
python -c "
from striate import filters, viz
bank = filters.FilterBank(filters.gabor_bank(orientations=8, scales=2))
bank.ensure_built((None, 64, 64, 1))
viz.plot_filters(bank, path='$OUT/gabor-bank.png')"

# a trained network, seen from inside
[ -f "$MNIST/model.safetensors" ] || striate train mnist-cnn --epochs 3 --out "$MNIST" --quiet
striate show history "$MNIST" --out "$OUT/mnist-history.png"
striate show filters "$MNIST" --out "$OUT/mnist-filters.png"
striate show maps "$MNIST" --index 0 --out "$OUT/mnist-feature-maps.png"
striate show saliency "$MNIST" --index 0 --out "$OUT/mnist-saliency.png"
striate show guided "$MNIST" --index 0 --out "$OUT/mnist-guided.png"
striate show occlusion "$MNIST" --index 0 --out "$OUT/mnist-occlusion.png"
striate show predictions "$MNIST" --out "$OUT/mnist-predictions.png"
striate show predictions "$MNIST" --only-errors --count 16 --out "$OUT/mnist-errors.png"
striate show confusion "$MNIST" --out "$OUT/mnist-confusion.png"

# convolution step by step
python -c "
import numpy as np
from striate import viz
image = np.array([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                  [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]])
vertical_edge = np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
viz.animate_convolution(image, vertical_edge, path='$OUT/convolution.gif')
viz.animate_arithmetic(5, 3, strides=2, padding='same', path='$OUT/arithmetic-same-stride-2.gif')
viz.animate_arithmetic(3, 3, strides=2, transposed=True, path='$OUT/arithmetic-transposed.gif')"

# an LSTM cell over text (the Shakespeare example's model: 3 epochs, about 4 minutes on 2 quiet cores)
CELLS=runs/shakespeare-cells
if [ -f "$CELLS/char_lstm.safetensors" ]; then
    python -c "from striate.examples.shakespeare import cell_pictures
print(cell_pictures('$CELLS/char_lstm.safetensors', '$CELLS'))"
else
    python -m striate.examples.shakespeare --cells "$CELLS"
fi
cp "$CELLS/cell_line_position.png" "$OUT/shakespeare-cell-line-position.png"
