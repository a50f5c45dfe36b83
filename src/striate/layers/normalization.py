"""BatchNormalization and LocalResponseNormalization layers."""

from striate import functional as F
from striate.layers.layer import Layer


class BatchNormalization(Layer):
    """Batch normalization over the last axis, as keras.layers.BatchNormalization (momentum 0.99, epsilon 1e-3).

    Weights: gamma, beta (trainable) and moving_mean, moving_variance (non-trainable): 4 * C parameters.

    A frozen layer (trainable=False, set on it or on a model holding it) runs in inference mode even when
    called with training=True or inside fit: it normalizes with the moving statistics and does not update
    them, as Keras 3 (fine-tuning a pretrained network relies on it).
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, center=True, scale=True, **options):
        super().__init__(**options)
        self.momentum, self.epsilon, self.center, self.scale = momentum, epsilon, center, scale

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.gamma = self.add_weight("gamma", channels, "ones") if self.scale else None
        self.beta = self.add_weight("beta", channels, "zeros") if self.center else None
        self.moving_mean = self.add_weight("moving_mean", channels, "zeros", trainable=False)
        self.moving_variance = self.add_weight("moving_variance", channels, "ones", trainable=False)

    def call(self, inputs, training=False):
        return F.batch_norm(inputs, self.moving_mean.data, self.moving_variance.data, self.gamma, self.beta,
                            training=training and self.trainable, momentum=self.momentum, epsilon=self.epsilon)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale}


class LocalResponseNormalization(Layer):
    """AlexNet's local response normalization across channels (see striate.functional.local_response_norm)."""

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **options):
        super().__init__(**options)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, inputs, training=False):
        return F.local_response_norm(inputs, self.depth_radius, self.bias, self.alpha, self.beta)

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias, "alpha": self.alpha,
                "beta": self.beta}
