"""striate's runtime: every piece of state that outlives one op call, in one file, below the ops.

Six things, read top to bottom:

1. How many threads striate uses: `get_num_threads()`, the CPUs this process may run on
   (`os.sched_getaffinity`), unless `set_num_threads(n)` or the `STRIATE_NUM_THREADS` environment variable
   (read once, never written) says otherwise. PyTorch's names.
2. The BLAS thread limit: `single_threaded_blas()` holds every BLAS library (through threadpoolctl) at one
   thread while any thread needs it, and gives back exactly the counts it found when the last one leaves, so
   contexts may nest and overlap in any order.
3. Parallel work: `split_batch(function, parts, work)` runs `function` on every part, on the calling thread
   and `get_num_threads() - 1` helper threads, with BLAS single-threaded inside each part (N parts each calling
   an N-thread BLAS would oversubscribe the cores). A product striate does not split runs outside, where BLAS
   has all N threads. Each helper runs on a CPU of its own, not the caller's, and the caller holds its CPU
   for the split, or for the whole `workers_only` block it splits in (its CPU set given back after; lifted for a
   call into a library with a pool of its own, `library_threads()`, whose threads would keep it). Between
   splits a helper spins a quarter of a millisecond (`striate.core.spin`) before it blocks, so that the next
   split of a training step finds it awake. The parts are fixed by the problem, never by the thread count: a
   kernel gradient summed over its parts, a dropout mask drawn per part, come out bit for bit the same on 1
   thread or 16.
   The helpers are forgotten in a child made by `fork` (their threads do not exist there) and started again on
   first use.
4. Modes that belong to one thread (`contextvars`, as PyTorch keeps them per thread): `no_grad()`, in which
   ops record no graph, and `workers_only()`, a training step or an inference pass in which BLAS stays on one
   thread and every large pass is cut into parts for the workers. A worker running a part sees the caller's
   modes.
5. The memory policy: `keep_freed_memory()` asks glibc's malloc to keep freed memory for reuse, and
   `keep_freed_memory(False)` gives it back. Nothing else here touches process-wide settings, and nothing
   reads or writes an environment variable except `STRIATE_NUM_THREADS`, read.
6. How `algorithm="auto"` chooses where its table names several algorithms: by timing them on the first call
   (the default, as cuDNN's benchmark mode), or, after `use_deterministic_algorithms(True)`, the table's first
   name without timing, so that every process makes the same choice and a seeded run repeats to the last bit
   in another process (PyTorch's names; process-wide, as PyTorch's flag).
"""

import contextvars
import ctypes
import ctypes.util
import functools
import itertools
import os
import threading
from contextlib import contextmanager, nullcontext

import numpy as np  # loaded before threadpoolctl looks for BLAS libraries: NumPy's is the one striate calls
from threadpoolctl import ThreadpoolController

from striate.core import spin

# ---- 1. How many threads ---------------------------------------------------------------------------------------

NUM_THREADS_VARIABLE = "STRIATE_NUM_THREADS"

_requested_threads = None  # set by set_num_threads (or by STRIATE_NUM_THREADS, read at the first question)
_variable_read = False


def get_num_threads():
    """The number of threads striate splits its work over: the calling thread and this many minus one workers.

    `set_num_threads(n)` if it was called; else `STRIATE_NUM_THREADS` if the variable is set (read at the first
    call, then treated as `set_num_threads` of its value); else the CPUs this process may run on.
    """
    global _variable_read
    if _requested_threads is None and not _variable_read:
        value = os.environ.get(NUM_THREADS_VARIABLE)
        if value is not None:
            set_num_threads(_parse_threads(value))
        _variable_read = True
    if _requested_threads is not None:
        return _requested_threads
    return _available_cpus()


def set_num_threads(n):
    """Split striate's work over `n` threads, and run BLAS on `n` threads outside striate's splits.

    As `torch.set_num_threads`: the setting lasts until the next call. BLAS's count is set through threadpoolctl
    (a C call, not an environment variable); while a `single_threaded_blas` hold is active it is set when the
    hold ends.
    """
    global _requested_threads
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads: n must be a positive int; received n={n!r}")
    _requested_threads = int(n)
    _set_blas_threads(int(n))


def _parse_threads(value):
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{NUM_THREADS_VARIABLE} must be a positive integer; received {value!r}")
    return count


def _available_cpus():
    """The CPUs of the calling thread's own set: while a split holds the thread on one CPU (`_placement`), the set
    it had before, so that the splits after the first in a `workers_only` block are as wide as the first."""
    own = getattr(_caller, "own_cpus", None)
    if own is not None:
        return len(own)
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # macOS and Windows: no affinity call


# ---- 2. The BLAS thread limit ----------------------------------------------------------------------------------

_blas_lock = threading.Lock()
_blas_libraries = None  # threadpoolctl's controllers of the loaded BLAS libraries, found at first use
_blas_holders = 0  # contexts (in any thread) inside single_threaded_blas now
_blas_counts_before = None  # each library's thread count when the first of them entered


def _blas():
    global _blas_libraries
    if _blas_libraries is None:
        _blas_libraries = ThreadpoolController().select(user_api="blas").lib_controllers
    return _blas_libraries


def _set_threads(library, count):
    """library.set_num_threads(count) from any thread.

    threadpoolctl 3.8 lets only the first thread that set an OpenBLAS count set it again and silently ignores
    the others; the holds below are counted under their own lock and entered from any thread, so they call
    OpenBLAS's own setter, as threadpoolctl does for that first thread.
    """
    getattr(library, "_real_set_num_threads", library.set_num_threads)(count)


def _set_blas_threads(count):
    """Every BLAS library at `count` threads now, or when the last hold ends."""
    global _blas_libraries, _blas_counts_before
    with _blas_lock:
        if _blas_holders:
            _blas_counts_before = [count] * len(_blas_counts_before)
            return
        _blas_libraries = None  # look again: a library loaded since (SciPy's, PyTorch's) is set too
        for library in _blas():
            _set_threads(library, count)


@contextmanager
def single_threaded_blas():
    """A context in which every BLAS library runs on one thread.

    Holds are counted across threads: the first to enter notes each library's count and sets it to 1, the last to
    leave sets the noted counts back, whatever order the contexts enter and leave in.
    """
    global _blas_holders, _blas_counts_before
    with _blas_lock:
        if _blas_holders == 0:
            _blas_counts_before = [library.num_threads for library in _blas()]
            for library in _blas():
                _set_threads(library, 1)
        _blas_holders += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_holders -= 1
            if _blas_holders == 0:
                for library, count in zip(_blas(), _blas_counts_before):
                    _set_threads(library, count)


# ---- 3. Parallel work ------------------------------------------------------------------------------------------

PARALLEL_MIN_WORK = 500_000  # multiply-adds (or elementwise steps) below which one thread is faster than two

SPIN_POLLS = 8_000  # reads of a counter before a waiting thread blocks (28 ns each with x86's pause on an AMD EPYC:
# 0.25 ms)
SETTLE_POLLS = 100  # pauses (about 3 us) a helper that has seen a job waits before it takes the GIL, which the
# caller holds meanwhile to start its own part: taken then, the helper would sleep until it is let go
_in_part = threading.local()  # .active: running a part of a split_batch call; .cpus: where this thread asked to run


def split_batch(function, parts, work):
    """[function(part) for part in parts], the parts shared by get_num_threads() threads when `work` is large.

    `work` is the multiply-add count of the whole call: below PARALLEL_MIN_WORK, or with one part, or from inside
    a part (whose workers may be busy with this very split), the parts run in order on the calling thread.
    Otherwise the calling thread and N - 1 workers each take the next part not yet taken until none is left
    (`itertools.count` hands out each index once; its `next` is atomic in CPython), so a thread slowed by other
    jobs simply takes fewer parts, and the caller waits for the parts the helpers took, never for a helper that
    took none (one woken late, on a halted virtual CPU, finds none left); BLAS is single-threaded meanwhile. The
    results come back in part order, which thread ran a part does not change them, and the workers run in a copy
    of the caller's context (its grad mode). If parts raise, the parts not yet begun are skipped, every running
    part finishes, and the exception of the first failed part (in part order) is raised here with its traceback.
    """
    if len(parts) < 2 or work < PARALLEL_MIN_WORK or getattr(_in_part, "active", False):
        return [function(part) for part in parts]
    threads = get_num_threads()
    if threads < 2:
        return [function(part) for part in parts]
    results, errors = [None] * len(parts), {}
    indices = itertools.count()  # next(indices): the next part not yet taken

    def take_parts():
        _in_part.active = True
        try:
            for index in indices:
                if index >= len(parts):
                    return
                if not errors:  # after a failure the parts left are taken and skipped
                    try:
                        results[index] = function(parts[index])
                    except BaseException as error:  # raised in the caller once every part has stopped
                        errors[index] = error
        finally:
            _in_part.active = False

    helper_count = min(threads, len(parts)) - 1
    with _blas_for_split(), _placement(helper_count) as helper_cpus:
        contexts = [contextvars.copy_context() for _ in range(helper_count)]  # one each: a context runs in one thread

        def help_with_parts(helper, job):
            if helper < helper_count:
                _run_on(helper_cpus[helper])
                workers.join(helper, job)  # before it takes a part: the caller waits for each helper that joined
                contexts[helper].run(take_parts)

        workers = _helpers()
        job = workers.post(help_with_parts, helper_count)
        take_parts()
        # every part is taken now; a helper that joins later finds none. Those that joined: spinning a while (their
        # last parts are short), then blocking
        for helper in range(helper_count):
            workers.wait_for(job, helper)
        workers.withdraw(job)
    if errors:
        raise errors[min(errors)]
    return results


def _blas_for_split():
    """BLAS on one thread for a split: `single_threaded_blas()`, or nothing where this thread's `workers_only`
    block already holds it (one hold fewer a split: 8 us in ResNet-20's step)."""
    return nullcontext() if getattr(_caller, "in_block", False) else single_threaded_blas()


PLACE_WORKERS = True  # False: the workers run wherever the operating system puts them


_caller = threading.local()  # .in_block: True inside a `workers_only` block of this thread's own (which holds BLAS
# at one thread); .held: (its CPU set to give back, the other CPUs) while the thread holds its CPU for that block;
# .own_cpus: that CPU set while a split or a block holds the thread on one CPU (what get_num_threads counts)


@contextmanager
def _placement(count):
    """A context giving the CPUs each of `count` helpers runs its parts on: one CPU each, none of them the one the
    calling thread runs on, which holds it meanwhile: for the split, or, inside `workers_only`, until that block
    ends (`_give_back_held_cpu`), so that a training step's hundred-odd splits ask the system once, not twice
    each (two sched_setaffinity calls took 38 us a split within ResNet-20's step; docs/algorithms.md). A
    scheduler otherwise may wake a helper onto its caller's CPU, or move the caller onto its helper's, and run both
    at half speed, as a VM that packs threads onto few virtual CPUs does (docs/algorithms.md: a grouped 3x3 layer's
    training step on two threads, 8.0-9.8 ms left to the scheduler, 6.1 ms placed). Where there are not that
    many other CPUs (or no `sched_getcpu`, or PLACE_WORKERS is False), each helper gets the caller's CPU set and
    the caller is left alone."""
    held = getattr(_caller, "held", None)
    if held is not None:
        allowed, others = held
        yield [{cpu} for cpu in others[:count]] if len(others) >= count else [allowed] * count
        return
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    current = _current_cpu() if PLACE_WORKERS and allowed is not None else None
    others = sorted(allowed - {current}) if current in (allowed or ()) else []
    if len(others) < count:
        yield [allowed] * count
        return
    os.sched_setaffinity(0, {current})
    _caller.own_cpus = allowed
    if getattr(_caller, "in_block", False):  # this thread's own block (not a copy of one's context) gives it back
        _caller.held = (allowed, others)
        yield [{cpu} for cpu in others[:count]]
        return
    try:
        yield [{cpu} for cpu in others[:count]]
    finally:
        os.sched_setaffinity(0, allowed)
        _caller.own_cpus = None


def _give_back_held_cpu():
    """The calling thread's CPU set back, where a split of its `workers_only` block held it to one CPU."""
    held = getattr(_caller, "held", None)
    if held is not None:
        _caller.held = _caller.own_cpus = None
        os.sched_setaffinity(0, held[0])


@contextmanager
def library_threads():
    """The thread count to hand a library's own pool (scipy.fft's `workers`) for one call: 1 inside a part of a
    split (the part runs on one thread, as BLAS does there), else get_num_threads(), with the calling thread on
    its own CPU set for the call.

    A pool's threads keep the CPU set of the thread that starts them, and inside a `workers_only` block a split
    holds its caller on one CPU until the block ends (`_placement`): scipy.fft's pool, started at its first
    multi-threaded transform, would otherwise run every one of its threads on that one CPU for good. The hold is
    lifted for the call and taken again after (two sched_setaffinity calls, about 5 us).
    """
    if getattr(_in_part, "active", False):
        yield 1
        return
    held = getattr(_caller, "held", None)
    if held is None:
        yield get_num_threads()
        return
    allowed, others = held
    os.sched_setaffinity(0, allowed)
    try:
        yield get_num_threads()
    finally:
        os.sched_setaffinity(0, allowed - set(others))


def _run_on(cpus):
    """Keep this thread on `cpus` (a set of CPU numbers; None changes nothing), asked of the system only when it
    differs from what this thread last asked for. Where the system refuses (the CPU was taken away from this
    process since the split looked), the thread stays where it is: the placement only speeds the parts up."""
    if cpus is not None and getattr(_in_part, "cpus", None) != cpus:
        try:
            os.sched_setaffinity(0, cpus)
        except OSError:
            return
        _in_part.cpus = cpus


def _current_cpu():
    """The CPU the calling thread runs on now (glibc's `sched_getcpu`), or None where that cannot be asked."""
    libc = _libc()
    cpu = libc.sched_getcpu() if libc is not None and hasattr(libc, "sched_getcpu") else -1
    return cpu if cpu >= 0 else None


class _Helpers:
    """The helper threads (daemons, "striate-worker-<number>"), started as a split first needs them, and the job
    they run: the last one `post`ed, a function each helper calls with its own number and the job's.

    A helper that has run a job spins (`spin.reached`) on the count of jobs posted for SPIN_POLLS reads, then
    blocks on a condition until the next job: in a training step's run of splits, the next one finds it awake.
    The job notes the number of the job when the helper joins it, before it takes a part (`join`), and the helper,
    once done, the number of the job it finished: under the lock for a caller that blocks, and in a counter stored
    after it has let go of the GIL, for a caller that spins (`wait_for`). The records are the helper's own, kept
    from job to job: a split makes none."""

    def __init__(self):
        self.posted = spin.new_counter()  # how many jobs were posted
        self.job = (0, None)  # (the number of the last job, its function, or None once withdrawn)
        self.lock = threading.Lock()
        self.job_posted = threading.Condition(self.lock)
        self.job_finished = threading.Condition(self.lock)
        self.joined = []  # per helper: the number of the last job it joined
        self.finished = []  # per helper: the same of the last job it finished, set under the lock
        self.let_go = []  # per helper: a counter, the same again, stored once the helper has let go of the GIL
        spin.signal_then_wait(spin.new_counter(), 0, self.posted, 0, 0, 0)  # compiled (or loaded) before a split

    def post(self, function, helpers):
        """Hand `function` to the helpers, starting threads until there are `helpers`; returns the job's number."""
        with self.lock:
            for number in range(len(self.joined), helpers):
                self.joined.append(0)
                self.finished.append(0)
                self.let_go.append(spin.new_counter())
                threading.Thread(target=self._serve, args=(number,), name=f"striate-worker-{number}",
                                 daemon=True).start()
            number = self.job[0] + 1
            self.job = (number, function)
            self.posted[0] = number
            self.job_posted.notify_all()
        return number

    def join(self, helper, number):
        """Note that `helper` takes parts of job `number` (called by the job, in the helper's thread)."""
        self.joined[helper] = number

    def wait_for(self, number, helper):
        """Return once `helper` is done with job `number`, at once if it did not join it (it then takes no part)."""
        if self.joined[helper] != number or spin.reached(self.let_go[helper], number, SPIN_POLLS, 0):
            return
        with self.lock:
            while self.finished[helper] < number:
                self.job_finished.wait()

    def withdraw(self, number):
        """Forget job `number` if it is still the last (its function holds the split's arrays)."""
        with self.lock:
            if self.job[0] == number:
                self.job = (number, None)

    def _serve(self, helper):
        seen = 0
        while True:
            if not spin.signal_then_wait(self.let_go[helper], seen, self.posted, seen + 1, SPIN_POLLS,
                                         SETTLE_POLLS):
                with self.lock:
                    while self.posted[0] <= seen:
                        self.job_posted.wait()
            seen, function = self.job
            if function is None:
                continue
            try:
                function(helper, seen)
            finally:
                with self.lock:
                    self.finished[helper] = seen
                    self.job_finished.notify_all()


_helper_threads = None  # _Helpers, made at first use
_helpers_lock = threading.Lock()


def _helpers():
    global _helper_threads
    with _helpers_lock:
        if _helper_threads is None:
            _helper_threads = _Helpers()
        return _helper_threads


def _forget_threads_in_child():
    """After `fork`: the parent's helper threads do not exist in the child, so its helpers would never come."""
    global _helper_threads, _helpers_lock, _blas_lock
    _helper_threads, _helpers_lock, _blas_lock = None, threading.Lock(), threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_threads_in_child)


# ---- 4. Modes of one thread: grad mode and workers_only --------------------------------------------------------

_grad_enabled = contextvars.ContextVar("striate_grad_enabled", default=True)
_workers_only = contextvars.ContextVar("striate_workers_only", default=False)


def is_grad_enabled():
    """True unless this thread is inside a `no_grad()` block."""
    return _grad_enabled.get()


@contextmanager
def no_grad():
    """Within this block ops build no graph: results have requires_grad=False. Other threads are unaffected.

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> with no_grad():
    ...     y = x * 2
    >>> y.requires_grad, (x * 2).requires_grad
    (False, True)
    """
    token = _grad_enabled.set(False)
    try:
        yield
    finally:
        _grad_enabled.reset(token)


def in_workers_only():
    """True inside `workers_only()` in this thread (or in a part that such a thread handed to a worker)."""
    return _workers_only.get()


@contextmanager
def workers_only():
    """A training step or an inference pass: BLAS on one thread throughout, striate's workers doing all the
    parallel work (every large pass cut into parts for them, `striate.algorithms.chunking`), and the calling thread
    held on one CPU from its first split to the end of the block (`_placement`).

    Otherwise OpenBLAS's own threads, woken by a multi-threaded product, keep spinning for a while after it and
    compete with striate's workers for the cores.
    """
    token = _workers_only.set(True)
    outermost = not getattr(_caller, "in_block", False)  # gives back the CPU the block's splits held
    try:
        with single_threaded_blas():
            _caller.in_block = True  # this thread's splits need no BLAS hold of their own
            yield
    finally:
        _workers_only.reset(token)
        if outermost:
            _caller.in_block = False
            _give_back_held_cpu()


# ---- 5. The memory policy --------------------------------------------------------------------------------------

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
KEPT_MMAP_THRESHOLD = 32 * 2**20  # the largest glibc accepts: half of its 64 MiB heap segments
KEPT_TRIM_THRESHOLD = 2**30
DEFAULT_THRESHOLD = 128 * 2**10  # glibc's starting value of both


def keep_freed_memory(keep=True):
    """Ask glibc's malloc to keep freed memory for the next allocation (keep=True) or to give it back (False).

    A training step allocates the same activation-sized arrays every time and frees them at the end. glibc
    serves an allocation above its mmap threshold (128 KiB at start, raised as it goes, at most 32 MiB) with
    fresh pages from the kernel and unmaps them when freed, and trims the top of its heap once more than the
    trim threshold is free: the next step's arrays can be new pages, and the first write to each 4 KiB page is a
    page fault (the lectures' MNIST CNN at batch 128: about 2,800 faults a step in one process, none in another
    whose allocations came in another order). keep=True raises both
    thresholds (32 MiB and 1 GiB) through `mallopt`: the process's resident memory then stays near its peak, as
    with the caching allocators of other frameworks. keep=False sets both back to 128 KiB (glibc no longer
    adjusts the mmap threshold by itself after any `mallopt` call) and returns the free memory to the kernel
    (`malloc_trim`).

    Returns whether freed memory is kept now; False where the C library is not glibc (macOS, Windows, musl),
    whose allocator has its own policy and nothing is set.
    """
    libc = _glibc()
    if libc is None:
        return False
    if keep:
        return bool(libc.mallopt(M_MMAP_THRESHOLD, KEPT_MMAP_THRESHOLD)) and bool(
            libc.mallopt(M_TRIM_THRESHOLD, KEPT_TRIM_THRESHOLD))
    libc.mallopt(M_MMAP_THRESHOLD, DEFAULT_THRESHOLD)
    libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_THRESHOLD)
    libc.malloc_trim(0)
    return False


@functools.cache
def _libc():
    """The C library, the glibc functions used here (`mallopt`, `malloc_trim`, `sched_getcpu`) typed where it has
    them, or None where it cannot be loaded (looked up once: `find_library` runs ldconfig)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    for name, argtypes, restype in (("mallopt", (ctypes.c_int, ctypes.c_int), ctypes.c_int),
                                    ("malloc_trim", (ctypes.c_size_t,), ctypes.c_int),
                                    ("sched_getcpu", (), ctypes.c_int)):
        if hasattr(libc, name):
            function = getattr(libc, name)
            function.argtypes, function.restype = argtypes, restype
    return libc


def _glibc():
    """The C library if it has glibc's `mallopt` and `malloc_trim`, else None (macOS, Windows, musl)."""
    libc = _libc()
    return libc if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


# ---- 6. Measured or fixed algorithm choice ---------------------------------------------------------------------

_deterministic_algorithms = False


def use_deterministic_algorithms(mode):
    """mode=True: `algorithm="auto"` takes the first of the candidates its table names for a layer (Winograd for
    a 3x3 stride-1 layer) instead of timing them on the first call and keeping the fastest, so the choice, and
    with it every result, is the same in every process; mode=False (the default): timed, the fastest.

    Choices already timed in this process are kept and used while the mode is off (see
    `striate.algorithms.measured`); with the mode on they are not consulted.
    """
    global _deterministic_algorithms
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: mode must be True or False; received {mode!r}")
    _deterministic_algorithms = mode


def are_deterministic_algorithms_enabled():
    """Whether `use_deterministic_algorithms(True)` is in effect."""
    return _deterministic_algorithms
