"""Random batch-norm statistics and scales for a striate model, so an export test sees BN do real work
(fresh layers hold mean 0, variance 1, gamma 1, beta 0)."""

import numpy as np

from striate.layers.normalization import BatchNormalization


def with_random_statistics(model, seed=0):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            channels = layer.moving_mean.shape[0]
            layer.moving_mean.data[...] = rng.normal(0, 0.1, channels)
            layer.moving_variance.data[...] = rng.uniform(0.5, 1.5, channels)
            layer.gamma.data[...] = rng.uniform(0.5, 1.5, channels)
            layer.beta.data[...] = rng.normal(0, 0.1, channels)
    return model
