"""e^x for float32 inside compiled loops, in arithmetic that vectorizes (Cephes' expf: Moshier 1989).

numba's loops call libm's scalar expf, one call per value, so a loop with an exp never vectorizes (llvmlite here
has no vector math library); NumPy's np.exp is vectorized but is a pass of its own over memory. `exp_float32` is
the same function written in multiplies, adds, comparisons and one reinterpretation of bits, which LLVM turns
into vector instructions inside the caller's loop:

    n = round(x log2 e)                       (by adding and subtracting 1.5 * 2^23: round to nearest)
    r = x - n ln 2                            (ln 2 in two parts, so that r keeps its low bits), |r| <= ln 2 / 2
    e^r ~ 1 + r + r^2 p(r)                    p Cephes' degree-5 polynomial: within 1.5 float32 ulps of e^x
    e^x = e^r 2^h 2^(n - h), h = floor(n / 2)  each power of 2 from its bits, (k + 127) << 23: n from -126 to 128

with e^x = inf above ln(FLT_MAX) = 88.72, 0 below -87.34 (e^x below the smallest normal float32, 1.2e-38), and
NaN for NaN. Call it from loops compiled with error_model="numpy" and fastmath={"contract"} (multiply-adds fused).
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

LOG2_E = np.float32(1.44269504088896341)
LN2_HIGH, LN2_LOW = np.float32(0.693359375), np.float32(-2.12194440e-4)  # ln 2 = LN2_HIGH + LN2_LOW
ROUNDING_SHIFT = np.float32(1.5 * 2**23)  # t + shift - shift rounds t to an integer (|t| < 2^22)
P0, P1, P2, P3, P4, P5 = (np.float32(value) for value in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3,
                                                           4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1))
LOWEST, HIGHEST = np.float32(-87.33654), np.float32(88.72283)  # ln of the smallest normal, of the largest float32


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose bits are the int32 `bits` (a reinterpretation, no conversion)."""

    def codegen(context, builder, signature, arguments):
        return builder.bitcast(arguments[0], ir.FloatType())

    return types.float32(types.int32), codegen


@njit(inline="always", error_model="numpy", fastmath={"contract"})
def exp_float32(x):
    """e^x of a float32 x, within 1.5 ulps (see the module); inlined into the caller's loop."""
    clamped = min(max(x, LOWEST), HIGHEST)
    n = (clamped * LOG2_E + ROUNDING_SHIFT) - ROUNDING_SHIFT
    r = clamped - n * LN2_HIGH - n * LN2_LOW
    polynomial = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5
    half = np.int32(n) >> 1  # 2^n = 2^half 2^(n - half), each a normal float32 for n in [-126, 128]
    power = _float32_from_bits((half + np.int32(127)) << 23)
    rest = _float32_from_bits((np.int32(n) - half + np.int32(127)) << 23)
    result = (polynomial * r * r + r + np.float32(1)) * power * rest
    result = np.float32(np.inf) if x > HIGHEST else result
    result = np.float32(0) if x < LOWEST else result
    return x if x != x else result
