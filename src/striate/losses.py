"""Loss objects with Keras' names; each calls a function of striate.functional and returns the batch mean."""

from striate import functional as F


class Loss:
    name = "loss"

    def __init__(self, from_logits=False):
        self.from_logits = from_logits

    def __call__(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"class_name": type(self).__name__, "config": {"from_logits": self.from_logits}}


class SparseCategoricalCrossentropy(Loss):
    """Cross-entropy with integer labels (N,) against (N, C) probabilities or logits."""

    name = "sparse_categorical_crossentropy"

    def __call__(self, y_true, y_pred):
        return F.cross_entropy(y_pred, y_true, from_logits=self.from_logits)


class CategoricalCrossentropy(Loss):
    """Cross-entropy with one-hot labels (N, C)."""

    name = "categorical_crossentropy"

    def __call__(self, y_true, y_pred):
        return F.cross_entropy(y_pred, y_true, from_logits=self.from_logits)


class BinaryCrossentropy(Loss):
    """Binary cross-entropy, averaged over all elements."""

    name = "binary_crossentropy"

    def __call__(self, y_true, y_pred):
        return F.binary_cross_entropy(y_pred, y_true, from_logits=self.from_logits)


class MeanSquaredError(Loss):
    """mean((y_pred - y_true)^2)."""

    name = "mean_squared_error"

    def __init__(self):
        super().__init__(from_logits=False)

    def __call__(self, y_true, y_pred):
        return F.mse(y_pred, y_true)

    def get_config(self):
        return {"class_name": type(self).__name__, "config": {}}


BY_NAME = {cls.name: cls for cls in (SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
                                     MeanSquaredError)}
BY_NAME["mse"] = MeanSquaredError
BY_CLASS = {cls.__name__: cls for cls in BY_NAME.values()}


def get(identifier):
    """A Loss from a name ("sparse_categorical_crossentropy"), a config dict or a Loss."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in BY_NAME:
        return BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict) and identifier.get("class_name") in BY_CLASS:
        return BY_CLASS[identifier["class_name"]](**identifier.get("config", {}))
    raise ValueError(f"loss: unknown {identifier!r}; expected one of {sorted(BY_NAME)} or a Loss")
