"""Recurrent layers with Keras' names, arguments and weight layouts: SimpleRNN, LSTM, GRU; and pad_sequences.

Each layer owns three weights, in Keras' order (get_weights / set_weights):

    SimpleRNN  kernel (F, H)     recurrent_kernel (H, H)     bias (H,)
    LSTM       kernel (F, 4H)    recurrent_kernel (H, 4H)    bias (4H,)       gates (i, f, c, o)
    GRU        kernel (F, 3H)    recurrent_kernel (H, 3H)    bias (2, 3H)     gates (z, r, h); reset_after=True:
               bias[0] is added to x @ kernel, bias[1] to h @ recurrent_kernel (torch.nn.GRU's form)

Shape: input (N, T, F). Output (N, H), the last state; (N, T, H) with return_sequences=True; with
return_state=True a list [output, *final_states] (LSTM's states are [h, c]).

Masking: a mask (N, T) (True = real step), from Embedding(mask_zero=True), Masking or `mask=`, makes a padded
step leave the state unchanged. With return_sequences the output at a padded step repeats the previous
output (Keras' default), or is 0 with zero_output_for_mask=True (what torch's packed sequences give).
go_backwards reads the steps last to first and returns them in that order. initial_state=[h0] (LSTM:
[h0, c0]) starts from given states; gradients reach them too.

How the steps are computed, one visible table (`IMPLEMENTATIONS`):

    "fused"     one op for the whole sequence, backward by BPTT in the same op (striate.ops.recurrent);
                needs the default activations (tanh, and sigmoid for the gates)
    "autodiff"  a graph of primitive ops per step; autodiff does BPTT. Any activation. The reference.
    "auto"      "fused" when it can serve the layer, else "autodiff"
"""

import numpy as np

from striate import constraints, ops, regularizers
from striate.core.tensor import Tensor, as_tensor
from striate.layers import activations, initializers
from striate.layers.embedding import attach_mask, mask_of
from striate.layers.layer import Layer, _is_symbolic, call_scope
from striate.layers.noise import RandomSource, dropout_mask
from striate.ops.recurrent import gru_sequence, lstm_sequence, simple_rnn_sequence

IMPLEMENTATIONS = ("auto", "fused", "autodiff")


class Orthogonal(initializers.Initializer):
    """A random orthogonal matrix (Saxe et al. 2014), Keras' default recurrent_initializer."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def sample(self, shape, rng):
        rows, cols = shape[0], int(np.prod(shape[1:]))
        flat = rng.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        q = q if rows >= cols else q.T
        return self.gain * q.reshape(shape)


class UnitForgetBias(initializers.Initializer):
    """Zeros, except ones for the forget gate (Jozefowicz et al. 2015), as Keras' unit_forget_bias=True."""

    def sample(self, shape, rng):
        units = shape[-1] // 4
        values = np.zeros(shape)
        values[..., units : 2 * units] = 1.0
        return values


def _initializer(identifier):
    return Orthogonal() if identifier == "orthogonal" else identifier


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0):
    """Pad (and cut) sequences of different lengths to one array (N, maxlen, ...), as Keras' pad_sequences.

    Args:
        sequences: a list of sequences (lists or arrays whose first axis is time).
        maxlen: the common length; default the longest sequence.
        padding, truncating: "pre" (Keras' default) or "post": where values are added or cut.
        value: the padding value (0, the index Embedding(mask_zero=True) treats as padding).
    """
    for name, option in (("padding", padding), ("truncating", truncating)):
        if option not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post'; received {option!r}")
    arrays = [np.asarray(s) for s in sequences]
    if not arrays:
        raise ValueError("pad_sequences: received no sequences")
    length = max(len(a) for a in arrays) if maxlen is None else int(maxlen)
    feature_shape = next((a.shape[1:] for a in arrays if len(a)), ())
    result = np.full((len(arrays), length, *feature_shape), value, dtype=dtype)
    for row, array in enumerate(arrays):
        if not len(array):
            continue
        array = array[-length:] if truncating == "pre" else array[:length]
        if padding == "pre":
            result[row, length - len(array) :] = array
        else:
            result[row, : len(array)] = array
    return result


class _Recurrent(Layer):
    """What SimpleRNN, LSTM and GRU share: weights, argument checks, masking, direction, output form.

    A subclass sets `gate_count` and `state_count`, and writes `_fused(z, states, mask)` and
    `_step(z_t, states, masks)`, both returning the states after the step(s); `_step` takes h @ recurrent_kernel
    from `recurrent_projection(h, masks)`.

    Dropout, as Keras (Gal & Ghahramani 2016), only with training=True: `dropout` zeroes input features,
    `recurrent_dropout` features of the previous state h before its product with the recurrent kernel. The
    masks are drawn once per call and kept across all time steps. With recurrent_dropout = 0, one input mask
    serves every gate; with recurrent_dropout > 0 each gate draws its own input and recurrent masks (Keras'
    implementation 1) and the steps run through "autodiff".
    """

    gate_count = 1
    state_count = 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False, zero_output_for_mask=False,
                 implementation="auto", dtype=None, seed=None, **options):
        super().__init__(activity_regularizer=activity_regularizer, **options)
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= rate < 1:
                raise ValueError(f"{self.name}: {name} must satisfy 0 <= rate < 1; received {rate}")
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.random = RandomSource(seed)
        if int(units) < 1:
            raise ValueError(f"{self.name}: units must be a positive integer; received {units}")
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"{self.name}: implementation must be one of {IMPLEMENTATIONS}; "
                             f"received {implementation!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = kernel_initializer
        self.recurrent_initializer = recurrent_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.implementation = implementation
        self.dtype = np.dtype(dtype or np.float32)

    # ---- weights --------------------------------------------------------------------------------------
    def bias_shape(self):
        return (self.gate_count * self.units,)

    def build(self, input_shape):
        width = self.gate_count * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], width), self.kernel_initializer, dtype=self.dtype,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                _initializer(self.recurrent_initializer), dtype=self.dtype,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight("bias", self.bias_shape(), self.bias_initializer, dtype=self.dtype,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None

    def input_projection(self, inputs):
        """x @ kernel (+ the input bias) for all steps at once: (N, T, F) -> (N, T, G * H)."""
        n, steps, features = inputs.shape
        z = (inputs.reshape(n * steps, features) @ self.kernel).reshape(n, steps, -1)
        return z if self.bias is None else z + self.bias

    # ---- calling ----------------------------------------------------------------------------------------
    def __call__(self, inputs, training=False, mask=None, initial_state=None):
        if _is_symbolic(inputs):
            return super().__call__(inputs, training=training)
        inputs = self.check_inputs(inputs)
        mask = self.check_mask(inputs, mask_of(inputs) if mask is None else mask)
        self.ensure_built((None, *inputs.shape[1:]))
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{self.name}: built for {self.kernel.shape[0]} features per step; received an input "
                             f"of shape {inputs.shape}")
        with call_scope(self):
            return self.record_activity(self.call(inputs, training=training, mask=mask, initial_state=initial_state))

    def check_inputs(self, inputs):
        """A Tensor (N, T, F) with T >= 1; ragged sequences are refused with the way to pad them."""
        if isinstance(inputs, list | tuple) or (isinstance(inputs, np.ndarray) and inputs.dtype == object):
            lengths = [len(s) for s in inputs]
            if len(set(lengths)) > 1:
                raise ValueError(f"{self.name}: received {len(lengths)} sequences of different lengths {lengths}; "
                                 "pad them to one length with striate.layers.pad_sequences and pass mask= "
                                 "(or put Masking / Embedding(mask_zero=True) before this layer)")
            inputs = np.stack([np.asarray(s.data if isinstance(s, Tensor) else s) for s in inputs])
        inputs = as_tensor(inputs)
        if inputs.ndim != 3:
            raise ValueError(f"{self.name}: expects (batch, time steps, features); received shape {inputs.shape}")
        if inputs.shape[1] == 0:
            raise ValueError(f"{self.name}: received an empty sequence (0 time steps, input shape {inputs.shape}); "
                             "every sequence needs at least one step")
        return inputs

    def check_mask(self, inputs, mask):
        if mask is None:
            return None
        mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
        if mask.shape != inputs.shape[:2]:
            raise ValueError(f"{self.name}: the mask must have shape (batch, time steps) = {inputs.shape[:2]}; "
                             f"received {mask.shape}")
        return mask.astype(bool)

    def initial_states(self, inputs, initial_state):
        n = inputs.shape[0]
        if initial_state is None:
            return [Tensor(np.zeros((n, self.units), self.dtype)) for _ in range(self.state_count)]
        states = list(initial_state) if isinstance(initial_state, list | tuple) else [initial_state]
        if len(states) != self.state_count:
            raise ValueError(f"{self.name}: initial_state needs {self.state_count} state(s) of shape "
                             f"(batch, {self.units}); received {len(states)}")
        states = [as_tensor(s) for s in states]
        for state in states:
            if state.shape != (n, self.units):
                raise ValueError(f"{self.name}: each initial state must have shape ({n}, {self.units}); "
                                 f"received {state.shape}")
        return states

    def uses_fused(self):
        can = self.can_fuse()
        if self.implementation == "fused" and not can:
            raise ValueError(f"{self.name}: implementation='fused' needs the default activations; use 'autodiff'")
        return can if self.implementation == "auto" else self.implementation == "fused"

    def dropout_masks(self, inputs, training):
        """(input masks, recurrent masks): lists of constant keep / (1 - rate) Tensors, (N, 1, F) for the inputs
        (one for all gates, or one per gate) and (N, H) per gate for the state; None where no dropout applies."""
        if not training:
            return None, None
        n, gates, rng = inputs.shape[0], self.gate_count, self.random.generator()
        per_gate = self.recurrent_dropout > 0
        input_masks = None
        if self.dropout > 0:
            input_masks = [dropout_mask(rng, (n, 1, inputs.shape[-1]), self.dropout, inputs.dtype)
                           for _ in range(gates if per_gate else 1)]
        recurrent_masks = None
        if per_gate:
            recurrent_masks = [dropout_mask(rng, (n, self.units), self.recurrent_dropout, inputs.dtype)
                               for _ in range(gates)]
        return input_masks, recurrent_masks

    def projection_with_dropout(self, inputs, input_masks):
        """input_projection of the inputs, each gate's block from the inputs times its own mask."""
        if input_masks is None:
            return self.input_projection(inputs)
        if len(input_masks) == 1:
            return self.input_projection(inputs * input_masks[0])
        units = self.units
        blocks = [self.input_projection(inputs * m)[:, :, g * units : (g + 1) * units] for g, m in
                  enumerate(input_masks)]
        return ops.concat(blocks, axis=2)

    def recurrent_projection(self, h, masks, gates=None):
        """h @ recurrent_kernel over the blocks of `gates` (default all); with recurrent-dropout masks, gate g's
        block is (h * masks[g]) @ its columns."""
        gates = range(self.gate_count) if gates is None else gates
        units, kernel = self.units, self.recurrent_kernel
        if masks is None:
            if len(gates) == self.gate_count:
                return h @ kernel
            return h @ kernel[:, gates[0] * units : (gates[-1] + 1) * units]
        return ops.concat([(h * masks[g]) @ kernel[:, g * units : (g + 1) * units] for g in gates], axis=1)

    def call(self, inputs, training=False, mask=None, initial_state=None):
        states = self.initial_states(inputs, initial_state)
        input_masks, recurrent_masks = self.dropout_masks(inputs, training)
        z = self.projection_with_dropout(inputs, input_masks)
        if self.go_backwards:
            z = z[:, ::-1]
            mask = None if mask is None else mask[:, ::-1]
        if recurrent_masks is None and self.uses_fused():
            sequence, final_states = self._fused(z, states, mask)
        else:
            sequence, final_states = self._autodiff(z, states, mask, recurrent_masks)
        if mask is not None and self.zero_output_for_mask:
            sequence = sequence * mask[:, :, None].astype(sequence.dtype)
        if self.return_sequences:
            output = attach_mask(sequence, mask)
        else:
            output = final_states[0]
        return [output, *final_states] if self.return_state else output

    def _autodiff(self, z, states, mask, recurrent_masks=None):
        """Step by step from primitive ops: returns (outputs (N, T, H), final states)."""
        outputs = []
        for t in range(z.shape[1]):
            new_states = self._step(z[:, t], states, recurrent_masks)
            if mask is not None:
                keep = mask[:, t, None]
                new_states = [ops.where(keep, new, old) for new, old in zip(new_states, states)]
            states = new_states
            outputs.append(states[0])
        return ops.stack(outputs, axis=1), states

    # ---- shapes and config --------------------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output, *[(batch, self.units)] * self.state_count]
        return output

    def weight_shapes(self, input_shape):
        width = self.gate_count * self.units
        shapes = [((input_shape[-1], width), True), ((self.units, width), True)]
        return [*shapes, (self.bias_shape(), True)] if self.use_bias else shapes

    def multiply_accumulates(self, input_shape, output_shape):
        """T * G * H * (F + H): each step multiplies x_t (F) by the kernel and h (H) by the recurrent kernel, for G
        gates of H units."""
        steps, features = input_shape[1], input_shape[-1]
        return steps * self.gate_count * self.units * (features + self.units)

    def floating_point_operations(self, input_shape, output_shape):
        """2 per multiply-accumulate, and per step and gate value a bias (use_bias) and an activation; the few
        elementwise products of the state update (LSTM, GRU) are not counted."""
        gate_values = input_shape[1] * self.gate_count * self.units
        return super().floating_point_operations(input_shape, output_shape) + gate_values * (1 + int(self.use_bias))

    def receptive_field(self, field, input_shape, output_shape):
        """None: step t sees every earlier step (and, backwards, every later one), not a window."""
        return None

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.name_of(self.activation),
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "recurrent_initializer": self.recurrent_initializer, "bias_initializer": self.bias_initializer,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "zero_output_for_mask": self.zero_output_for_mask,
                "implementation": self.implementation, "dtype": self.dtype.name, "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.random.seed,
                **regularizers.config_of(self, "kernel", "recurrent", "bias"),
                **constraints.config_of(self, "kernel", "recurrent", "bias")}


class SimpleRNN(_Recurrent):
    """Fully connected recurrence (Elman 1990): h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias).

    >>> SimpleRNN(32, return_sequences=True)(np.zeros((8, 20, 13))).shape
    (8, 20, 32)
    """

    def can_fuse(self):
        return self.activation is ops.tanh

    def _fused(self, z, states, mask):
        sequence = simple_rnn_sequence(z, states[0], self.recurrent_kernel, mask=mask)
        return sequence, [sequence[:, -1]]

    def _step(self, z_t, states, masks=None):
        return [self.activation(z_t + self.recurrent_projection(states[0], masks))]


class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000), as keras LSTM.

        i = rec_act(x W_i + h U_i + b_i)    f = rec_act(x W_f + h U_f + b_f)
        g = act(x W_c + h U_c + b_c)        o = rec_act(x W_o + h U_o + b_o)
        c' = f * c + i * g                  h' = o * act(c')

    W = kernel (F, 4H), U = recurrent_kernel (H, 4H), b = bias (4H,), gate blocks in the order (i, f, c, o),
    which is also torch.nn.LSTM's order (torch keeps W transposed and splits b into b_ih + b_hh).

    Args:
        units: H. activation: "tanh". recurrent_activation: "sigmoid".
        unit_forget_bias: start the forget-gate bias at 1 (Keras' default True).
        See the module docstring for return_sequences, return_state, go_backwards, masking, implementation.

    >>> LSTM(64)(np.zeros((8, 20, 13))).shape
    (8, 64)
    >>> output, h, c = LSTM(64, return_state=True)(np.zeros((8, 20, 13)))
    >>> h.shape, c.shape
    ((8, 64), (8, 64))
    """

    gate_count = 4
    state_count = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True,
                 **options):
        super().__init__(units, activation=activation, **options)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        if self.unit_forget_bias and self.bias_initializer == "zeros":
            self.bias_initializer = UnitForgetBias()

    def can_fuse(self):
        return self.activation is ops.tanh and self.recurrent_activation is ops.sigmoid

    def _fused(self, z, states, mask):
        both = lstm_sequence(z, states[0], states[1], self.recurrent_kernel, mask=mask)
        sequence = both[:, :, : self.units]
        return sequence, [sequence[:, -1], both[:, -1, self.units :]]

    def _step(self, z_t, states, masks=None):
        h, c = states
        pre = z_t + self.recurrent_projection(h, masks)
        units = self.units
        i = self.recurrent_activation(pre[:, :units])
        f = self.recurrent_activation(pre[:, units : 2 * units])
        g = self.activation(pre[:, 2 * units : 3 * units])
        o = self.recurrent_activation(pre[:, 3 * units :])
        c_new = f * c + i * g
        return [o * self.activation(c_new), c_new]

    def get_config(self):
        config = {**super().get_config(), "recurrent_activation": activations.name_of(self.recurrent_activation),
                  "unit_forget_bias": self.unit_forget_bias}
        if isinstance(config["bias_initializer"], UnitForgetBias):
            config["bias_initializer"] = "zeros"
        return config


class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al. 2014), as keras GRU with its default reset_after=True.

        u = rec_act(x W_z + b_z + h U_z + b'_z)         r = rec_act(x W_r + b_r + h U_r + b'_r)
        n = act(x W_h + b_h + r * (h U_h + b'_h))       h' = u * h + (1 - u) * n

    kernel (F, 3H), recurrent_kernel (H, 3H), bias (2, 3H) = [b (input), b' (recurrent)], gate blocks in
    Keras' order (z, r, h). torch.nn.GRU computes the same with its blocks in the order (r, z, n).
    reset_after=False (GRU v1: r multiplies h before U, one bias (3H,)) runs through "autodiff".
    """

    gate_count = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True, **options):
        super().__init__(units, activation=activation, **options)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_projection(self, inputs):
        if self.bias is None or not self.reset_after:
            return super().input_projection(inputs)
        n, steps, features = inputs.shape
        z = (inputs.reshape(n * steps, features) @ self.kernel).reshape(n, steps, -1)
        return z + self.bias[0]

    def recurrent_bias(self):
        if self.bias is None or not self.reset_after:
            return Tensor(np.zeros(3 * self.units, self.dtype))
        return self.bias[1]

    def can_fuse(self):
        return self.reset_after and self.activation is ops.tanh and self.recurrent_activation is ops.sigmoid

    def _fused(self, z, states, mask):
        sequence = gru_sequence(z, states[0], self.recurrent_kernel, self.recurrent_bias(), mask=mask)
        return sequence, [sequence[:, -1]]

    def _step(self, z_t, states, masks=None):
        (h,) = states
        units = self.units
        kernel = self.recurrent_kernel
        if self.reset_after:
            recurrent = self.recurrent_projection(h, masks) + self.recurrent_bias()
            u = self.recurrent_activation(z_t[:, :units] + recurrent[:, :units])
            r = self.recurrent_activation(z_t[:, units : 2 * units] + recurrent[:, units : 2 * units])
            n = self.activation(z_t[:, 2 * units :] + r * recurrent[:, 2 * units :])
        else:
            gates = z_t[:, : 2 * units] + self.recurrent_projection(h, masks, gates=(0, 1))
            u = self.recurrent_activation(gates[:, :units])
            r = self.recurrent_activation(gates[:, units:])
            h_candidate = h if masks is None else h * masks[2]
            n = self.activation(z_t[:, 2 * units :] + (r * h_candidate) @ kernel[:, 2 * units :])
        return [u * h + (1 - u) * n]

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": activations.name_of(self.recurrent_activation),
                "reset_after": self.reset_after}
