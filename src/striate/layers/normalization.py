"""BatchNormalization and LocalResponseNormalization layers."""

import math

import numpy as np

from striate import constraints, regularizers
from striate import functional as F
from striate.layers.layer import Layer


class BatchNormalization(Layer):
    """Batch normalization over the last axis, as keras.layers.BatchNormalization (momentum 0.99, epsilon 1e-3).

    Weights: gamma, beta (trainable) and moving_mean, moving_variance (non-trainable): 4 * C parameters.

    A frozen layer (trainable=False, set on it or on a model holding it) runs in inference mode even when
    called with training=True or inside fit: it normalizes with the moving statistics and does not update
    them, as Keras 3 (fine-tuning a pretrained network relies on it).

    synchronized=True (Keras' argument; SyncBatchNorm): in a data-parallel job (striate.distributed) the
    training statistics are those of the global batch, all ranks' shards together, forward and backward.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **options):
        super().__init__(**options)
        if not isinstance(axis, int):
            raise ValueError(f"{self.name}: axis must be an int, the channel axis (-1); received {axis!r}")
        self.axis = axis
        self.momentum, self.epsilon, self.center, self.scale = momentum, epsilon, center, scale
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.synchronized = synchronized
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        if self.axis % len(input_shape) != len(input_shape) - 1:
            raise ValueError(f"{self.name}: striate normalizes the channels, the last axis (channels-last), so axis "
                             f"must be -1 (or {len(input_shape) - 1} for inputs of rank {len(input_shape)}); received "
                             f"axis={self.axis} for input shape {input_shape}")
        channels = (input_shape[-1],)
        self.gamma = self.add_weight("gamma", channels, self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight("beta", channels, self.beta_initializer, regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", channels, self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", channels, self.moving_variance_initializer,
                                               trainable=False)

    def call(self, inputs, training=False):
        return self.normalize(inputs, training)

    def normalize(self, inputs, training=False, activation=None):
        """activation(batch_norm(inputs)), activation None or "relu", applied inside the op (a fusion plan's
        batch norm + relu: striate.models.fusion)."""
        return F.batch_norm(inputs, self.moving_mean.data, self.moving_variance.data, self.gamma, self.beta,
                            training=self.uses_batch_statistics(training), momentum=self.momentum,
                            epsilon=self.epsilon, synchronized=self.synchronized, activation=activation)

    def uses_batch_statistics(self, training):
        """Whether a call with `training` normalizes by the batch's statistics (and updates the moving ones):
        only in training and when the layer is trainable."""
        return bool(training) and self.trainable

    def inference_scale_shift(self):
        """(scale, shift) (C,) with which inference is y = x * scale + shift: scale = gamma / sqrt(moving_variance
        + epsilon), shift = beta - moving_mean * scale, computed in float64, in the weights' dtype."""
        variance = self.moving_variance.data
        scale = 1.0 / np.sqrt(variance.astype(np.float64) + self.epsilon)
        if self.gamma is not None:
            scale = scale * self.gamma.data
        shift = -self.moving_mean.data * scale
        if self.beta is not None:
            shift = shift + self.beta.data
        return scale.astype(variance.dtype), shift.astype(variance.dtype)

    def weight_shapes(self, input_shape):
        channels = (input_shape[-1],)
        learned = [(channels, True)] * (int(self.scale) + int(self.center))
        return [*learned, (channels, False), (channels, False)]

    def floating_point_operations(self, input_shape, output_shape):
        """2 per element: the statistics (and gamma, beta) fold into one scale and one shift per channel."""
        return 2 * math.prod(output_shape[1:])

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer, "moving_mean_initializer": self.moving_mean_initializer,
                "moving_variance_initializer": self.moving_variance_initializer, "synchronized": self.synchronized,
                **regularizers.config_of(self, "beta", "gamma"),
                **constraints.config_of(self, "beta", "gamma")}


class LocalResponseNormalization(Layer):
    """AlexNet's local response normalization across channels (see striate.functional.local_response_norm)."""

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **options):
        super().__init__(**options)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, inputs, training=False):
        return F.local_response_norm(inputs, self.depth_radius, self.bias, self.alpha, self.beta)

    def floating_point_operations(self, input_shape, output_shape):
        """2r + 5 per element: its square (1), summed over 2r + 1 neighbouring channels (2r), then times alpha,
        plus bias, to the power beta, and the divide (4)."""
        return math.prod(output_shape[1:]) * (2 * self.depth_radius + 5)

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias, "alpha": self.alpha,
                "beta": self.beta}
