"""Who this process is in a data-parallel job: its rank among `size` processes, read from MPI.

`init()` imports mpi4py (lazily: striate never needs it otherwise) and reads MPI_COMM_WORLD's rank and size.
Without mpi4py, or in a process not started by `mpiexec` / `srun`, the world is this one process: rank 0 of 1,
and everything in striate.distributed still works (every collective returns its input).

The one setting of the job, the `timeout` of collective waits, lives here and nowhere else.
"""

DEFAULT_TIMEOUT = 300.0  # seconds a rank waits in a collective before it ends the job (see collectives.wait)

_world = None  # (communicator or None, rank, size), set by init()
_timeout = DEFAULT_TIMEOUT


def init(timeout=None):
    """Join the job (once; later calls only change the timeout); returns (rank, size).

    Args:
        timeout: seconds any collective may wait for the other ranks before this rank prints what it waited
            for and aborts the whole job (MPI_Abort); None keeps the current value (300 s unless set).
    """
    global _world, _timeout
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ValueError(f"striate.distributed.init: timeout must be a number of seconds > 0; received "
                             f"{timeout!r}")
        _timeout = float(timeout)
    if _world is None:
        _world = _join()
    return _world[1], _world[2]


def _join():
    try:
        from mpi4py import MPI
    except ImportError:
        return None, 0, 1
    communicator = MPI.COMM_WORLD
    if communicator.Get_size() == 1:
        return None, 0, 1
    return communicator, communicator.Get_rank(), communicator.Get_size()


def rank():
    """This process's rank, 0 ... size() - 1 (0 without MPI)."""
    return init()[0]


def size():
    """The number of processes in the job (1 without MPI)."""
    return init()[1]


def is_main():
    """Whether this is rank 0, the process that prints and writes files."""
    return rank() == 0


def communicator():
    """MPI_COMM_WORLD when the job has several processes, else None."""
    init()
    return _world[0]


def timeout():
    """Seconds a collective waits before ending the job."""
    return _timeout
