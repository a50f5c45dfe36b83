"""Collectives with a deadline: allreduce, broadcast, barrier, each on NumPy arrays, each ending the job
rather than hanging.

MPI's blocking collectives wait forever when another rank has died, stopped or raised. Here every collective
is started non-blocking (MPI_Iallreduce, MPI_Ibcast, MPI_Ibarrier) and `wait` polls it until it completes or
`world.timeout()` seconds pass; then this rank prints what it waited for and calls MPI_Abort, which ends every
process of the job with a non-zero exit status. Polling sleeps between tests (up to 1 ms), so a waiting rank
leaves its core to the ranks still computing (processes may outnumber cores).

In a job of one process every function returns at once: the array is already the sum over all ranks.
"""

import json
import sys
import time
import traceback
from contextlib import contextmanager

import numpy as np

from striate.distributed import world

LONGEST_PAUSE = 1e-3  # seconds between two tests of a pending collective, reached after a few quick tests
MESSAGE_GRACE = 0.5  # seconds between printing why the job ends and MPI_Abort, for mpiexec to forward the message


def allreduce_(array, what="allreduce"):
    """Sum `array` (a C-contiguous NumPy array) over all ranks, in place; returns it.

    Every rank must call it with an array of the same shape and dtype, in the same order as the other
    collectives. `what` names the call in the message printed when it times out.
    """
    communicator = world.communicator()
    if communicator is None:
        return array
    _check_contiguous("allreduce_", array)
    from mpi4py import MPI

    wait(communicator.Iallreduce(MPI.IN_PLACE, array, op=MPI.SUM), what)
    return array


def allreduce(array, what="allreduce"):
    """The sum of `array` over all ranks, as a new array (float64 for Python numbers)."""
    return allreduce_(np.array(array, order="C", copy=True), what)


def broadcast_(array, root=0, what="broadcast"):
    """Overwrite `array`, in place, with rank `root`'s; returns it."""
    communicator = world.communicator()
    if communicator is None:
        return array
    _check_contiguous("broadcast_", array)
    wait(communicator.Ibcast(array, root=root), what)
    return array


def broadcast_json(value, root=0, what="broadcast"):
    """Rank `root`'s `value`, a JSON value (a random generator's state, a list of names), on every rank.

    It travels as UTF-8 JSON text, so nothing is unpickled: the length goes first, through `broadcast_`, then
    the bytes, so both waits have the deadline.
    """
    communicator = world.communicator()
    if communicator is None:
        return value
    payload = np.frombuffer(json.dumps(value).encode(), dtype=np.uint8) if world.rank() == root else None
    length = broadcast_(np.array([0 if payload is None else payload.size], dtype=np.int64), root, what)
    buffer = payload.copy() if payload is not None else np.empty(int(length[0]), dtype=np.uint8)
    broadcast_(buffer, root, what)
    return json.loads(buffer.tobytes().decode())


def broadcast_arrays(arrays, root=0, what="broadcast"):
    """Rank `root`'s `arrays`, a dict of names to numeric NumPy arrays (an optimizer's state), on every rank: the
    names, dtypes and shapes as JSON (`broadcast_json`), then each array's bytes (`broadcast_`); no pickle.
    Other ranks' `arrays` are not read."""
    communicator = world.communicator()
    if communicator is None:
        return arrays
    layout = None
    if world.rank() == root:
        arrays = {name: np.asarray(array, order="C") for name, array in arrays.items()}  # 0-d stays 0-d
        for name, array in arrays.items():
            if array.dtype.kind not in "biufc":
                raise ValueError(f"broadcast_arrays: {what}: array {name!r} must hold numbers; received dtype "
                                 f"{array.dtype}")
        layout = {name: [array.dtype.str, list(array.shape)] for name, array in arrays.items()}
    layout = broadcast_json(layout, root, what)
    return {name: broadcast_(arrays[name] if world.rank() == root else np.empty(shape, dtype=np.dtype(dtype)),
                             root, f"{what}: {name}")
            for name, (dtype, shape) in layout.items()}


def barrier(what="barrier"):
    """Return when every rank has reached its barrier."""
    communicator = world.communicator()
    if communicator is not None:
        wait(communicator.Ibarrier(), what)


def wait(request, what):
    """Poll an MPI request until it completes; after `world.timeout()` seconds, end the job with a message."""
    deadline = time.monotonic() + world.timeout()
    pause = 0.0
    while not request.Test():
        if time.monotonic() > deadline:
            abort(f"rank {world.rank()} of {world.size()} waited {world.timeout():g} s in {what} without hearing "
                  f"from every rank: another rank has failed, stopped or hung")
        time.sleep(pause)
        pause = min(2 * pause or 1e-5, LONGEST_PAUSE)


def abort(message):
    """Print `striate.distributed: <message>; ending the job` to stderr, then MPI_Abort (exit status 1 for all).

    Between the two it waits MESSAGE_GRACE seconds: mpiexec forwards a rank's output through its proxy, which
    MPI_Abort tears down, and under load the message was lost (the job ended silently) without the pause."""
    print(f"striate.distributed: {message}; ending the job", file=sys.stderr, flush=True)
    communicator = world.communicator()
    if communicator is None:
        raise SystemExit(1)
    time.sleep(MESSAGE_GRACE)
    communicator.Abort(1)


@contextmanager
def abort_on_error(expected=()):
    """A block whose exception, on any rank, ends the whole job at once (MPI_Abort, exit status 1 for every
    rank) instead of leaving the other ranks waiting in their next collective until the timeout. The exception
    is printed with its traceback, or in one line for the `expected` types (a user's mistake). In a job of one
    process the exception passes through unchanged.

    >>> with striate.distributed.abort_on_error():      # doctest: +SKIP
    ...     model.fit(x, y, distributed=True)
    """
    try:
        yield
    except BaseException as error:
        if world.communicator() is None or isinstance(error, SystemExit) and not error.code:
            raise
        if not isinstance(error, expected):
            traceback.print_exc()
        abort(f"rank {world.rank()} of {world.size()} failed: {type(error).__name__}: {error}")


def _check_contiguous(name, array):
    if not isinstance(array, np.ndarray) or not array.flags.c_contiguous:
        raise ValueError(f"striate.distributed.{name}: needs a C-contiguous NumPy array to fill in place; received "
                         f"{type(array).__name__} {getattr(array, 'shape', '')}")
