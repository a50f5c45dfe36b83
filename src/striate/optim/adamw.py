"""AdamW (Loshchilov & Hutter 2019), as Keras 3."""

from striate.optim.adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay, on by default: before each Adam step, p <- p - p * weight_decay * lr.

    The decay does not pass through the moments m and v (an L2 penalty in the loss would). PyTorch's AdamW
    multiplies p by (1 - lr * weight_decay) too, but differs from Keras in epsilon (see `Adam`) and in
    amsgrad.

    Args:
        learning_rate: a float >= 0 or a schedule. Default 0.001.
        weight_decay: a float >= 0. Default 0.004.
        beta_1, beta_2, epsilon, amsgrad: as `Adam`.
        clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **options):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float >= 0; received None (use Adam for none)")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, **options)
