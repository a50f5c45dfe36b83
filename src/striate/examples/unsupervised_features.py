"""First-layer filters without labels (Goodfellow et al. 2016, section 9.9) against a fully trained CNN, on MNIST.

    python -m striate.examples.unsupervised_features    # or: striate example unsupervised_features

Every feature set is one layer of 32 filters of 5x5, applied the same way: convolution (valid) + bias,
ReLU, 4x4 max pooling, flattened to 6 * 6 * 32 = 1,152 features, standardized; a linear softmax classifier
is then trained on the frozen features. Only the filters differ:

- k-means (Coates & Ng 2011): 5x5 patches of training images, ZCA-whitened, clustered by k-means (32
  centroids); each whitened centroid, folded back through the whitening, is a filter; bias puts the
  threshold at the patch mean.
- random: Gaussian random filters (Jarrett et al. 2009; Saxe et al. 2011: random filters go a long way).
- hand-designed: Sobel x and y, and a Gabor bank (7 orientations x even/odd phase), each with both signs.
- autoencoder: the encoder of a convolutional autoencoder trained to reconstruct the images (Conv2D with
  stride 2 -> Conv2DTranspose with stride 2, mean squared error), used with stride 1.
- trained CNN: the same layer trained end to end with its classifier (the supervised reference).

Also a linear classifier on the raw pixels. Trained on the first 10,000 MNIST training images, tested on the
10,000 test images.
"""

import math
import sys

import numpy as np

import striate
import striate.functional as F
from striate import layers as L
from striate.datasets import mnist
from striate.examples import Timer, run_main, standard_parser

FILTERS, SIZE, POOL = 32, 5, 4


# ---- the five ways to get filters: each returns (kernel (5, 5, 1, 32), bias (32,)) ------------------------------
def kmeans_filters(images, rng, patches=20000, iterations=25, epsilon=0.1):
    """Coates & Ng (2011): k-means on whitened 5x5 patches; centroids folded back through the whitening."""
    n, height, width = images.shape
    rows = rng.integers(0, height - SIZE + 1, patches)
    cols = rng.integers(0, width - SIZE + 1, patches)
    which = rng.integers(0, n, patches)
    offsets = np.arange(SIZE)
    x = images[which[:, None, None], rows[:, None, None] + offsets[None, :, None], cols[:, None, None] + offsets]
    x = x.reshape(patches, -1).astype(np.float64)
    x = x[x.std(axis=1) > 0.05]  # blank background patches carry no shape
    mean = x.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(x - mean, rowvar=False))
    whiten = eigenvectors @ np.diag(1 / np.sqrt(eigenvalues + epsilon)) @ eigenvectors.T
    z = (x - mean) @ whiten
    centroids = z[rng.choice(len(z), FILTERS, replace=False)]
    for _ in range(iterations):  # Lloyd's algorithm
        distances = (z**2).sum(1)[:, None] - 2 * z @ centroids.T + (centroids**2).sum(1)[None]
        nearest = distances.argmin(axis=1)
        for k in range(FILTERS):
            members = z[nearest == k]
            centroids[k] = members.mean(axis=0) if len(members) else z[rng.integers(len(z))]
    filters = centroids @ whiten.T  # response = centroid . whiten(x - mean) = (whiten^T centroid) . x + bias
    filters /= np.linalg.norm(filters, axis=1, keepdims=True)
    bias = -filters @ mean
    return filters.T.reshape(SIZE, SIZE, 1, FILTERS), bias


def random_filters(rng):
    filters = rng.standard_normal((FILTERS, SIZE * SIZE))
    filters -= filters.mean(axis=1, keepdims=True)
    filters /= np.linalg.norm(filters, axis=1, keepdims=True)
    return filters.T.reshape(SIZE, SIZE, 1, FILTERS), np.zeros(FILTERS)


def hand_designed_filters():
    """Sobel x and y, and Gabor filters at 7 orientations in even and odd phase; each with both signs."""
    sobel_x = np.zeros((SIZE, SIZE))
    sobel_x[1:4, 1:4] = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    bank = [sobel_x, sobel_x.T]
    half = SIZE // 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1]
    for angle in np.arange(7) * math.pi / 7:
        along = x * math.cos(angle) + y * math.sin(angle)
        across = -x * math.sin(angle) + y * math.cos(angle)
        envelope = np.exp(-(along**2 + (0.7 * across) ** 2) / (2 * 1.4**2))
        for phase in (0.0, math.pi / 2):
            bank.append(envelope * np.cos(2 * math.pi * along / 4.0 + phase))
    bank = [f - f.mean() for f in bank]
    bank = [f / np.linalg.norm(f) for f in bank]
    filters = np.stack(bank + [-f for f in bank])  # 16 + 16 = 32
    return np.transpose(filters, (1, 2, 0))[:, :, None, :], np.zeros(FILTERS)


def autoencoder_filters(images, epochs, verbose):
    """The encoder of a convolutional autoencoder: Conv2D(32, 5, stride 2) -> Conv2DTranspose(1, 5, stride 2)."""
    encoder = L.Conv2D(FILTERS, SIZE, strides=2, padding="same", activation="relu", input_shape=(28, 28, 1))
    model = striate.Sequential([
        encoder,
        L.Conv2DTranspose(1, SIZE, strides=2, padding="same", activation="sigmoid"),
    ])
    model.compile("adam", "mse")
    model.fit(images, images, batch_size=64, epochs=epochs, verbose=verbose)
    kernel, bias = encoder.get_weights()
    return kernel, bias


def trained_cnn(images, labels, epochs, verbose):
    """The same first layer trained end to end: conv -> ReLU -> 4x4 max pool -> softmax."""
    conv = L.Conv2D(FILTERS, SIZE, activation="relu", input_shape=(28, 28, 1))
    model = striate.Sequential([conv, L.MaxPooling2D(POOL), L.Flatten(), L.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(images, labels, batch_size=64, epochs=epochs, verbose=verbose)
    return model, conv.get_weights()


# ---- the shared pipeline: frozen features, then a linear classifier ---------------------------------------
def features(images, kernel, bias, batch=1000):
    """ReLU(conv(images) + bias), 4x4 max pooled, flattened: (N, 1152)."""
    out = []
    with striate.no_grad():
        for start in range(0, len(images), batch):
            y = F.relu(F.conv2d(images[start : start + batch], kernel.astype(np.float32), bias.astype(np.float32)))
            out.append(F.max_pool2d(y, POOL).numpy().reshape(len(y), -1))
    return np.concatenate(out)


def linear_accuracy(train, y_train, test, y_test, epochs, seed):
    """A softmax classifier (one Dense layer) on standardized features; returns test accuracy."""
    mean, std = train.mean(axis=0), train.std(axis=0) + 1e-6
    striate.set_random_seed(seed)
    model = striate.Sequential([L.Dense(10, activation="softmax", input_shape=(train.shape[1],))])
    model.compile(striate.optim.Adam(0.001), "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(((train - mean) / std).astype(np.float32), y_train, batch_size=128, epochs=epochs, verbose=0)
    return model.evaluate(((test - mean) / std).astype(np.float32), y_test, verbose=0, return_dict=True)["accuracy"]


def run(epochs=10, seed=0, quick=False, verbose=1, train_size=10000, linear_epochs=15):
    """Returns the test accuracy of a linear classifier on each feature set, and of the trained CNN."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    if quick:
        train_size, linear_epochs = 1000, 10
        x_test, y_test = x_test[:1000], y_test[:1000]
    x_train = (x_train[:train_size, :, :, None] / 255.0).astype(np.float32)
    y_train = y_train[:train_size].astype(np.int64)
    x_test = (x_test[:, :, :, None] / 255.0).astype(np.float32)
    y_test = y_test.astype(np.int64)
    rng = np.random.default_rng(seed)
    striate.set_random_seed(seed)

    results = {"train_images": len(x_train), "test_images": len(x_test)}
    with Timer() as timer:
        results["raw_pixels_linear"] = linear_accuracy(x_train.reshape(len(x_train), -1), y_train,
                                                       x_test.reshape(len(x_test), -1), y_test, linear_epochs, seed)
        filter_sets = {
            "kmeans": kmeans_filters(x_train[..., 0], rng),
            "random": random_filters(rng),
            "hand_designed": hand_designed_filters(),
            "autoencoder": autoencoder_filters(x_train, epochs, verbose),
        }
        cnn, filter_sets["trained_cnn_filters"] = trained_cnn(x_train, y_train, epochs, verbose)
        for name, (kernel, bias) in filter_sets.items():
            train_features = features(x_train, kernel, bias)
            test_features = features(x_test, kernel, bias)
            results[f"{name}_linear"] = linear_accuracy(train_features, y_train, test_features, y_test,
                                                        linear_epochs, seed)
        results["trained_cnn_end_to_end"] = cnn.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    results["seconds"] = round(timer.seconds, 1)
    return results


def main(argv=None):
    return run_main(standard_parser("unsupervised_features", epochs=10), run, argv)


if __name__ == "__main__":
    sys.exit(main())
