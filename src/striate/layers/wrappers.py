"""Layers that wrap a layer: Bidirectional (a recurrent layer run both ways) and TimeDistributed.

The wrapped layers' weights are the wrapper's weights (get_weights / set_weights / count_params), in Keras'
order: Bidirectional gives the forward layer's weights, then the backward layer's.
"""

from striate import ops
from striate.core.tensor import as_tensor
from striate.layers.embedding import attach_mask, mask_of
from striate.layers.layer import Layer, _is_symbolic
from striate.layers.serialization import layer_entry, layer_from_entry

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class _Wrapper(Layer):
    def __init__(self, layer, **options):
        if isinstance(layer, dict):
            layer = layer_from_entry(layer, type(self).__name__)
        if not isinstance(layer, Layer):
            raise TypeError(f"{type(self).__name__}: wraps a Layer; received {type(layer).__name__}")
        super().__init__(**options)
        self.layer = layer

    def wrapped(self):
        return [self.layer]

    def sublayers(self):
        return self.wrapped()

    @property
    def weights(self):
        return [w for layer in self.wrapped() for w in layer.weights]

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self.wrapped() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for layer in self.wrapped() for w in layer.non_trainable_weights]


class Bidirectional(_Wrapper):
    """Runs a recurrent layer forwards and a copy of it backwards over the sequence, then merges the outputs.

    The backward copy is built from the layer's config with go_backwards flipped (or is `backward_layer`).
    With return_sequences its outputs are put back into forward time order before merging, so step t of
    the result sees the whole sequence. Masks are honoured by both directions; with return_sequences both
    layers get zero_output_for_mask=True, as Keras sets it, so the result is 0 at every masked step.

    Shape: (N, T, F) -> (N, 2H) with merge_mode="concat" ((N, H) for "sum", "mul", "ave"; a list of both
    for None); (N, T, 2H) with return_sequences=True. With return_state=True: [output, *forward_states,
    *backward_states].

    >>> Bidirectional(LSTM(32, return_sequences=True))(np.zeros((4, 10, 8))).shape
    (4, 10, 64)
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **options):
        super().__init__(layer, **options)
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"{self.name}: merge_mode must be one of {MERGE_MODES}; received {merge_mode!r}")
        self.merge_mode = merge_mode
        self.forward_layer = layer = self.layer
        if isinstance(backward_layer, dict):
            backward_layer = layer_from_entry(backward_layer, self.name)
        if backward_layer is None:
            config = layer.get_config()
            config.update(name=f"backward_{layer.name}", go_backwards=not layer.go_backwards)
            backward_layer = type(layer)(**config)
        self.backward_layer = backward_layer
        for direction in (self.forward_layer, self.backward_layer):  # Keras forces it on both
            direction.zero_output_for_mask = direction.return_sequences
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def wrapped(self):
        return [self.forward_layer, self.backward_layer]

    def build(self, input_shape):
        self.forward_layer.ensure_built(input_shape)
        self.backward_layer.ensure_built(input_shape)

    def __call__(self, inputs, training=False, mask=None, initial_state=None):
        if _is_symbolic(inputs):
            return super().__call__(inputs, training=training)
        inputs = self.forward_layer.check_inputs(inputs)
        mask = self.forward_layer.check_mask(inputs, mask_of(inputs) if mask is None else mask)
        self.ensure_built((None, *inputs.shape[1:]))
        return self.call(inputs, training=training, mask=mask, initial_state=initial_state)

    def call(self, inputs, training=False, mask=None, initial_state=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        forward = self.forward_layer(inputs, training=training, mask=mask, initial_state=forward_state)
        backward = self.backward_layer(inputs, training=training, mask=mask, initial_state=backward_state)
        states = []
        if self.return_state:
            forward, *forward_states = forward
            backward, *backward_states = backward
            states = [*forward_states, *backward_states]
        if self.return_sequences:
            backward = backward[:, ::-1]
        output = self.merge(forward, backward)
        if self.return_sequences and self.merge_mode is not None:
            attach_mask(output, mask)
        return [output, *states] if self.return_state else output

    def merge(self, forward, backward):
        if self.merge_mode == "concat":
            return ops.concat([forward, backward], axis=-1)
        if self.merge_mode == "sum":
            return forward + backward
        if self.merge_mode == "mul":
            return forward * backward
        if self.merge_mode == "ave":
            return (forward + backward) * 0.5
        return [forward, backward]

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        output, states = (shape[0], shape[1:]) if self.return_state else (shape, [])
        if self.merge_mode == "concat":
            output = (*output[:-1], 2 * output[-1])
        elif self.merge_mode is None:
            output = [output, output]
        return [output, *states, *states] if self.return_state else output

    def weight_shapes(self, input_shape):
        return [*self.forward_layer.weight_shapes(input_shape), *self.backward_layer.weight_shapes(input_shape)]

    def multiply_accumulates(self, input_shape, output_shape):
        """Both directions' (each on its own output shape)."""
        return sum(layer.multiply_accumulates(input_shape, layer.compute_output_shape(input_shape))
                   for layer in self.wrapped())

    def floating_point_operations(self, input_shape, output_shape):
        """Both directions' (the merge of their outputs is not counted)."""
        return sum(layer.floating_point_operations(input_shape, layer.compute_output_shape(input_shape))
                   for layer in self.wrapped())

    def receptive_field(self, field, input_shape, output_shape):
        """None, as a recurrent layer's: each step sees the whole sequence."""
        return None

    def get_config(self):
        return {**super().get_config(), "merge_mode": self.merge_mode, "layer": layer_entry(self.forward_layer),
                "backward_layer": layer_entry(self.backward_layer)}


class TimeDistributed(_Wrapper):
    """Applies a layer to every time step: (N, T, ...) -> (N, T, ...) by folding T into the batch axis.

    The same weights serve every step; a mask on the input is passed on unchanged.

    >>> TimeDistributed(Dense(10))(np.zeros((4, 20, 64))).shape
    (4, 20, 10)
    """

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"{self.name}: needs (batch, time steps, ...); received shape {input_shape}")
        self.layer.ensure_built((None, *input_shape[2:]))

    def call(self, inputs, training=False):
        inputs = as_tensor(inputs)
        n, steps = inputs.shape[:2]
        folded = inputs.reshape(n * steps, *inputs.shape[2:])
        output = self.layer(folded, training=training)
        return attach_mask(output.reshape(n, steps, *output.shape[1:]), mask_of(inputs))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None, *input_shape[2:]))
        return (input_shape[0], input_shape[1], *inner[1:])

    def weight_shapes(self, input_shape):
        return self.layer.weight_shapes((None, *input_shape[2:]))

    def multiply_accumulates(self, input_shape, output_shape):
        """T times the layer's on one step."""
        return input_shape[1] * self.layer.multiply_accumulates((None, *input_shape[2:]), (None, *output_shape[2:]))

    def floating_point_operations(self, input_shape, output_shape):
        """T times the layer's on one step."""
        return input_shape[1] * self.layer.floating_point_operations((None, *input_shape[2:]),
                                                                     (None, *output_shape[2:]))

    def receptive_field(self, field, input_shape, output_shape):
        """The time axis's field unchanged (steps are apart), the others' as the layer's on one step."""
        if not field:
            return field
        inner = self.layer.receptive_field(field[1:], (None, *input_shape[2:]), (None, *output_shape[2:]))
        return None if inner is None else (field[0], *inner)

    def get_config(self):
        return {**super().get_config(), "layer": layer_entry(self.layer)}

