"""striate: convolutional neural networks in plain NumPy, every operation in the open.

    import striate
    import striate.functional as F
    x = striate.Tensor(image, requires_grad=True)     # (N, H, W, C), channels-last
    y = F.conv2d(x, kernel, padding="same")            # kernel (kh, kw, C_in, C_out)

    model = striate.Sequential([striate.layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), ...])
"""

# besides striate's own modules, Keras' layout (`import striate as keras`): activations, callbacks, datasets,
# initializers, losses, optimizers and utils (and models, below), thin re-exports under Keras' names
from striate import (
    activations,
    applications,
    callbacks,
    constraints,
    datasets,
    distributed,
    filters,
    functional,
    images,
    initializers,
    layers,
    losses,
    metrics,
    optim,
    optimizers,
    regularizers,
    training,
    utils,
)
from striate.core import Tensor, no_grad, runtime
from striate.core.autograd import grad
from striate.core.errors import FileFormatError
from striate.core.random import set_random_seed
from striate.core.runtime import (
    are_deterministic_algorithms_enabled,
    get_num_threads,
    set_num_threads,
    use_deterministic_algorithms,
)
from striate.inspect.explain_algorithms import explain_algorithms
from striate.inspect.plan import plan
from striate.models import Input, Model, Sequential
from striate.models.saving import load_model

# isort: split
# after models: striate.models must be imported through striate.inspect, as above, before anything reads it
from striate import interchange
from striate.interchange import load_onnx

__version__ = "0.1.0"
__all__ = [
    "Input", "Model", "Sequential", "Tensor", "explain_algorithms", "filters", "functional", "images", "layers",
    "load_model", "metrics", "no_grad", "optim", "plan", "set_random_seed", "training",
    "FileFormatError", "get_num_threads", "grad", "runtime", "set_num_threads", "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled",
    "activations", "applications", "callbacks", "datasets", "initializers", "losses", "models", "optimizers", "utils",
    "constraints", "distributed", "interchange", "load_onnx", "regularizers",
]
