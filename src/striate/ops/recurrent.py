"""Fused recurrences: a whole SimpleRNN, LSTM or GRU sequence as one op, forward and BPTT side by side.

The layers in `striate.layers.recurrent` can also build the same recurrence step by step from primitive ops
(`implementation="autodiff"`), so autodiff does backpropagation through time there. That graph holds
about ten nodes per step, and every step's slice of the input projection hands back a full-size gradient,
so its backward grows with T^2. These ops run the same loop in NumPy, keep each step's gates, and walk the
steps backwards once in `backward` (BPTT). docs/sequences.md has the benchmark that justifies them.

Every op takes the input projection already computed for all steps at once, z = x @ kernel (+ bias), of
shape (N, T, G * H) with G gates, in Keras' gate order, and an optional constant mask (N, T): where the mask
is False the step is skipped and the state carried over unchanged (Keras' masking of padded steps).

    LSTM (Hochreiter & Schmidhuber 1997, with forget gate), gates (i, f, c, o) as Keras:
        i = sigmoid(z_i + h U_i)   f = sigmoid(z_f + h U_f)   g = tanh(z_c + h U_c)   o = sigmoid(z_o + h U_o)
        c' = f * c + i * g         h' = o * tanh(c')
    GRU (Cho et al. 2014), Keras' reset_after=True form, which is torch.nn.GRU's; gates (z, r, h) as Keras:
        r_h = h U + b_rec
        u = sigmoid(z_z + r_h_z)   r = sigmoid(z_r + r_h_r)   n = tanh(z_h + r * r_h_h)
        h' = u * h + (1 - u) * n
    SimpleRNN (Elman 1990):  h' = tanh(z + h U)
"""

import numpy as np
from scipy.special import expit

from striate.core.function import Function


def _step_mask(mask, t, dtype):
    """(N, 1) of 1.0 where step t is real, 0.0 where it is padding; None without a mask."""
    return None if mask is None else mask[:, t, None].astype(dtype)


def _carry(mask_t, new, old):
    """new where the step is real, old where it is padding."""
    return new if mask_t is None else mask_t * new + (1 - mask_t) * old


class SimpleRNNSequence(Function):
    """h_t = tanh(z_t + h_{t-1} U), all steps; output (N, T, H), the state after each step."""

    def forward(self, z, h0, recurrent_kernel, mask=None):
        n, steps, units = z.shape
        self.h0, self.kernel, self.mask = h0, recurrent_kernel, mask
        self.states = np.empty((n, steps, units), z.dtype)
        self.candidates = np.empty((n, steps, units), z.dtype)
        h = h0
        for t in range(steps):
            self.candidates[:, t] = np.tanh(z[:, t] + h @ recurrent_kernel)
            h = _carry(_step_mask(mask, t, z.dtype), self.candidates[:, t], h)
            self.states[:, t] = h
        return self.states

    def backward(self, grad):
        n, steps, units = grad.shape
        dz = np.empty_like(grad)
        dkernel = np.zeros_like(self.kernel)
        dh = np.zeros((n, units), grad.dtype)
        for t in reversed(range(steps)):
            dh = dh + grad[:, t]
            mask_t = _step_mask(self.mask, t, grad.dtype)
            dh_new = dh if mask_t is None else dh * mask_t
            h_prev = self.h0 if t == 0 else self.states[:, t - 1]
            dpre = dh_new * (1 - self.candidates[:, t] ** 2)
            dz[:, t] = dpre
            dkernel += h_prev.T @ dpre
            dh = dpre @ self.kernel.T + (0 if mask_t is None else dh * (1 - mask_t))
        return dz, dh, dkernel


class LSTMSequence(Function):
    """All steps of an LSTM; output (N, T, 2H): [h_t, c_t] after each step, concatenated on the last axis."""

    def forward(self, z, h0, c0, recurrent_kernel, mask=None):
        n, steps, four_units = z.shape
        units = four_units // 4
        self.h0, self.c0, self.kernel, self.mask = h0, c0, recurrent_kernel, mask
        self.gates = np.empty((n, steps, four_units), z.dtype)   # i, f, g, o after their activations
        self.tanh_c = np.empty((n, steps, units), z.dtype)         # tanh of the new cell state
        out = np.empty((n, steps, 2 * units), z.dtype)
        h, c = h0, c0
        for t in range(steps):
            pre = z[:, t] + h @ recurrent_kernel
            gates = self.gates[:, t]
            gates[:, : 2 * units] = expit(pre[:, : 2 * units])
            gates[:, 2 * units : 3 * units] = np.tanh(pre[:, 2 * units : 3 * units])
            gates[:, 3 * units :] = expit(pre[:, 3 * units :])
            i, f, g, o = np.split(gates, 4, axis=1)
            c_new = f * c + i * g
            self.tanh_c[:, t] = np.tanh(c_new)
            h_new = o * self.tanh_c[:, t]
            mask_t = _step_mask(mask, t, z.dtype)
            h, c = _carry(mask_t, h_new, h), _carry(mask_t, c_new, c)
            out[:, t, :units], out[:, t, units:] = h, c
        self.out = out
        return out

    def backward(self, grad):
        n, steps, two_units = grad.shape
        units = two_units // 2
        dz = np.empty((n, steps, 4 * units), grad.dtype)
        dkernel = np.zeros_like(self.kernel)
        dh = np.zeros((n, units), grad.dtype)
        dc = np.zeros((n, units), grad.dtype)
        for t in reversed(range(steps)):
            dh = dh + grad[:, t, :units]
            dc = dc + grad[:, t, units:]
            mask_t = _step_mask(self.mask, t, grad.dtype)
            dh_new, dc_new = (dh, dc) if mask_t is None else (dh * mask_t, dc * mask_t)
            h_prev = self.h0 if t == 0 else self.out[:, t - 1, :units]
            c_prev = self.c0 if t == 0 else self.out[:, t - 1, units:]
            i, f, g, o = np.split(self.gates[:, t], 4, axis=1)
            tanh_c = self.tanh_c[:, t]
            dc_total = dc_new + dh_new * o * (1 - tanh_c**2)
            dpre = dz[:, t]
            dpre[:, :units] = dc_total * g * i * (1 - i)
            dpre[:, units : 2 * units] = dc_total * c_prev * f * (1 - f)
            dpre[:, 2 * units : 3 * units] = dc_total * i * (1 - g**2)
            dpre[:, 3 * units :] = dh_new * tanh_c * o * (1 - o)
            dkernel += h_prev.T @ dpre
            dh_prev = dpre @ self.kernel.T
            dc_prev = dc_total * f
            if mask_t is not None:
                dh_prev += dh * (1 - mask_t)
                dc_prev += dc * (1 - mask_t)
            dh, dc = dh_prev, dc_prev
        return dz, dh, dc, dkernel


class GRUSequence(Function):
    """All steps of a GRU (reset_after=True); output (N, T, H), the state after each step."""

    def forward(self, z, h0, recurrent_kernel, recurrent_bias, mask=None):
        n, steps, three_units = z.shape
        units = three_units // 3
        self.h0, self.kernel, self.mask = h0, recurrent_kernel, mask
        self.gates = np.empty((n, steps, three_units), z.dtype)      # u, r, n after their activations
        self.recurrent_new = np.empty((n, steps, units), z.dtype)     # (h U + b_rec) of the new-state gate
        self.states = np.empty((n, steps, units), z.dtype)
        h = h0
        for t in range(steps):
            recurrent = h @ recurrent_kernel + recurrent_bias
            gates = self.gates[:, t]
            gates[:, : 2 * units] = expit(z[:, t, : 2 * units] + recurrent[:, : 2 * units])
            reset = gates[:, units : 2 * units]
            self.recurrent_new[:, t] = recurrent[:, 2 * units :]
            gates[:, 2 * units :] = np.tanh(z[:, t, 2 * units :] + reset * recurrent[:, 2 * units :])
            update, new = gates[:, :units], gates[:, 2 * units :]
            h_new = update * h + (1 - update) * new
            h = _carry(_step_mask(mask, t, z.dtype), h_new, h)
            self.states[:, t] = h
        return self.states

    def backward(self, grad):
        n, steps, units = grad.shape
        dz = np.empty((n, steps, 3 * units), grad.dtype)
        dkernel = np.zeros_like(self.kernel)
        dbias = np.zeros(3 * units, grad.dtype)
        dh = np.zeros((n, units), grad.dtype)
        for t in reversed(range(steps)):
            dh = dh + grad[:, t]
            mask_t = _step_mask(self.mask, t, grad.dtype)
            dh_new = dh if mask_t is None else dh * mask_t
            h_prev = self.h0 if t == 0 else self.states[:, t - 1]
            update, reset, new = np.split(self.gates[:, t], 3, axis=1)
            dnew_pre = dh_new * (1 - update) * (1 - new**2)
            dupdate_pre = dh_new * (h_prev - new) * update * (1 - update)
            dreset_pre = dnew_pre * self.recurrent_new[:, t] * reset * (1 - reset)
            dpre = dz[:, t]
            dpre[:, :units], dpre[:, units : 2 * units], dpre[:, 2 * units :] = dupdate_pre, dreset_pre, dnew_pre
            drecurrent = np.concatenate([dupdate_pre, dreset_pre, dnew_pre * reset], axis=1)
            dkernel += h_prev.T @ drecurrent
            dbias += drecurrent.sum(axis=0)
            dh_prev = drecurrent @ self.kernel.T + dh_new * update
            if mask_t is not None:
                dh_prev += dh * (1 - mask_t)
            dh = dh_prev
        return dz, dh, dkernel, dbias


def _check_mask(name, z, mask):
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != z.shape[:2]:
        raise ValueError(f"{name}: the mask must have shape (N, T) = {z.shape[:2]}; received {mask.shape}")
    return mask


def simple_rnn_sequence(z, h0, recurrent_kernel, mask=None):
    """tanh recurrence over all steps. z (N, T, H) = x @ kernel + bias; h0 (N, H); returns (N, T, H)."""
    return SimpleRNNSequence.apply(z, h0, recurrent_kernel, mask=_check_mask("simple_rnn_sequence", z, mask))


def lstm_sequence(z, h0, c0, recurrent_kernel, mask=None):
    """LSTM over all steps. z (N, T, 4H) = x @ kernel + bias, gates (i, f, c, o); returns (N, T, 2H) = [h_t, c_t]."""
    return LSTMSequence.apply(z, h0, c0, recurrent_kernel, mask=_check_mask("lstm_sequence", z, mask))


def gru_sequence(z, h0, recurrent_kernel, recurrent_bias, mask=None):
    """GRU (reset_after) over all steps. z (N, T, 3H) = x @ kernel + input bias, gates (z, r, h); returns (N, T, H)."""
    return GRUSequence.apply(z, h0, recurrent_kernel, recurrent_bias, mask=_check_mask("gru_sequence", z, mask))
