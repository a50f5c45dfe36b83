"""`keep_freed_memory`: ask the C allocator to reuse freed memory instead of giving it back to the kernel.

A training step allocates the same activation-sized arrays every time (outputs, gradients, scratch) and frees
them at the end. glibc's malloc serves an allocation above its "mmap threshold" (128 KiB at start, raised as
it goes, at most 32 MiB) with fresh pages from the kernel and unmaps them when it is freed, and it trims the
top of its heap once more than the "trim threshold" is free. Either way the next step's arrays are new pages,
and the first write to each 4 KiB page is a page fault: measured on these machines, 3,440 faults and 12.6 ms
of kernel time per LeNet-5 step (wall 26.3 ms steady; 12.1 ms once the memory is kept), 5,160 faults and
24 ms per step of the lectures' MNIST CNN.

`keep_freed_memory` sets both thresholds high through glibc's `mallopt` (a C call, not an environment
variable): allocations up to 32 MiB come from the heap, and freed memory stays there for the next step. The
price: the process's resident memory no longer shrinks when arrays are freed; it stays near its peak, as with
the caching allocators of other frameworks. `Model.compile` calls it once. Where the C library is not glibc
(macOS, Windows, musl) it does nothing.
"""

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 2**20  # the largest glibc accepts: half of its 64 MiB heap segments
TRIM_THRESHOLD = 2**30

_kept = False


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds once per process; True if they are set (now or before)."""
    global _kept
    if _kept:
        return True
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False  # not glibc: its own allocator, nothing to set
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _kept = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _kept
