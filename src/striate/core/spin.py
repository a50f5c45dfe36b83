"""Waiting for another thread without giving up the CPU: a compiled loop that reads a counter until it reaches a
target, for a bounded number of reads.

A thread that blocks (a lock, an event) gives its CPU back, and a virtual machine halts that CPU; waking it again
takes tens to hundreds of microseconds, as long as a small pass itself. `reached(counter, target, polls)` reads
counter[0] (an int64 array of one element, written by another thread) up to `polls` times, without the GIL, and
says whether it reached `target`; the caller blocks only after that. Each read is an atomic load with acquire
order, so that what the writer stored before the counter is visible after it (and the compiler cannot hoist the
read out of the loop); x86's `pause` between reads tells the core that this is a spin.
"""

import platform

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

COUNTER_DTYPE = np.int64
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")


@intrinsic
def _load_acquire(typing_context, counter):
    """counter[0], read with an atomic load of acquire order."""

    def codegen(context, builder, signature, arguments):
        array = context.make_array(signature.args[0])(context, builder, arguments[0])
        return builder.load_atomic(array.data, ordering="acquire", align=8)

    return types.int64(counter), codegen


@intrinsic
def _pause(typing_context):
    """The CPU's spin-wait hint (x86 `pause`; nothing elsewhere)."""

    def codegen(context, builder, signature, arguments):
        if _X86:
            pause = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                   "llvm.x86.sse2.pause")
            builder.call(pause, [])
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def _store_release(typing_context, counter, value):
    """counter[0] = value, written with an atomic store of release order."""

    def codegen(context, builder, signature, arguments):
        array = context.make_array(signature.args[0])(context, builder, arguments[0])
        builder.store_atomic(arguments[1], array.data, ordering="release", align=8)
        return context.get_dummy_value()

    return types.void(counter, types.int64), codegen


@njit(nogil=True, cache=True)
def reached(counter, target, polls, settle):
    """True once counter[0] >= target, False if it has not after `polls` reads; having seen it, `settle` pauses
    more before returning (and taking the GIL back)."""
    for _ in range(polls):
        if _load_acquire(counter) >= target:
            for _ in range(settle):
                _pause()
            return True
        _pause()
    return _load_acquire(counter) >= target


@njit(nogil=True, cache=True)
def signal_then_wait(signal, value, counter, target, polls, settle):
    """signal[0] = value, stored after the GIL is let go (a thread spinning on it then finds the GIL free), then
    `reached(counter, target, polls, settle)`."""
    _store_release(signal, value)
    return reached(counter, target, polls, settle)


def new_counter():
    """A counter at 0 for `reached`."""
    return np.zeros(1, dtype=COUNTER_DTYPE)
