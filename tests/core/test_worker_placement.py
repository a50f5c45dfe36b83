"""Where split_batch's threads run: each helper on a CPU of its own, never the caller's, which holds its CPU for the
split (inside `workers_only`, for the whole block) and gets its own CPU set back afterwards. Checked against what
the operating system reports (os.sched_getaffinity, glibc's sched_getcpu), not against the runtime's own
bookkeeping."""

import contextvars
import ctypes
import json
import os
import subprocess
import sys
import threading

import pytest

from striate.core import runtime

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                                reason="needs a Linux process that may run on two CPUs or more")

libc = ctypes.CDLL("libc.so.6")


@pytest.fixture
def caller_cpus():
    """This thread's CPU set, given back after the test whatever the test set."""
    cpus = os.sched_getaffinity(0)
    yield cpus
    os.sched_setaffinity(0, cpus)


def where_each_thread_ran(count, part_count=None, fail=False):
    """{"caller" or "helper": (CPU set, CPU run on)} for each thread of a split of `count` threads, all running parts
    at once (a barrier), and the caller's CPU set once the split has returned (or raised, fail=True)."""
    started = threading.Barrier(count, timeout=10)
    seen = {}

    def part(index):
        if index < count:
            started.wait()
            who = "caller" if threading.current_thread() is threading.main_thread() else f"helper {index}"
            seen[who] = (os.sched_getaffinity(0), libc.sched_getcpu())
        if fail and index == count:
            raise ValueError("a failed part")
        return index

    try:
        runtime.split_batch(part, range(part_count or 2 * count), work=runtime.PARALLEL_MIN_WORK)
    except ValueError:
        assert fail
    return seen, os.sched_getaffinity(0)


def test_each_helper_runs_on_one_other_cpu_than_its_caller_which_holds_its_own(threads, caller_cpus):
    threads(2)
    seen, after = where_each_thread_ran(2)
    (caller_set, caller_cpu), = [value for who, value in seen.items() if who == "caller"]
    (helper_set, helper_cpu), = [value for who, value in seen.items() if who != "caller"]
    assert caller_set == {caller_cpu}
    assert helper_set == {helper_cpu} and helper_cpu != caller_cpu and helper_cpu in caller_cpus
    assert after == caller_cpus


def test_the_callers_cpu_set_comes_back_after_a_failed_part(threads, caller_cpus):
    threads(2)
    _, after = where_each_thread_ran(2, fail=True)
    assert after == caller_cpus


def test_a_workers_only_block_holds_the_callers_cpu_across_its_splits_asking_the_system_once(threads, caller_cpus,
                                                                                             monkeypatch):
    threads(2)
    set_affinity, callers_requests = os.sched_setaffinity, []

    def recording(pid, cpus):
        if threading.current_thread() is threading.main_thread():
            callers_requests.append(set(cpus))
        set_affinity(pid, cpus)

    monkeypatch.setattr(os, "sched_setaffinity", recording)
    with runtime.workers_only():
        first, between = where_each_thread_ran(2)
        second, still = where_each_thread_ran(2)
    assert between == still == first["caller"][0] == second["caller"][0] and len(between) == 1
    assert os.sched_getaffinity(0) == caller_cpus
    assert callers_requests == [between, caller_cpus]  # held once, given back once


def test_a_workers_only_block_gives_the_cpu_back_when_it_raises_and_only_the_outermost_gives_it_back(threads,
                                                                                                  caller_cpus):
    threads(2)
    with pytest.raises(RuntimeError, match="inside the block"):
        with runtime.workers_only():
            where_each_thread_ran(2, fail=True)
            raise RuntimeError("inside the block")
    assert os.sched_getaffinity(0) == caller_cpus
    with runtime.workers_only():
        _, held = where_each_thread_ran(2)
        with runtime.workers_only():
            where_each_thread_ran(2)
        assert os.sched_getaffinity(0) == held != caller_cpus
    assert os.sched_getaffinity(0) == caller_cpus


def test_a_thread_in_a_copy_of_a_blocks_context_gives_its_cpu_back_after_each_split(threads, caller_cpus):
    """In workers_only mode by its context but in no block of its own, nothing would give a held CPU back."""
    threads(2)
    with runtime.workers_only():
        context = contextvars.copy_context()
    after = {}

    def split_then_look():
        where_each_thread_ran(2)
        after["cpus"] = os.sched_getaffinity(0)

    other = threading.Thread(target=context.run, args=(split_then_look,))
    other.start()
    other.join(timeout=20)
    assert context.run(runtime.in_workers_only) and after["cpus"] == caller_cpus


def test_a_caller_held_to_one_cpu_keeps_its_helpers_there_too(threads, caller_cpus):
    threads(2)
    where_each_thread_ran(2)  # the helper is placed on another CPU first
    only = {min(caller_cpus)}
    os.sched_setaffinity(0, only)
    seen, after = where_each_thread_ran(2)
    assert all(cpus == only for cpus, _ in seen.values()) and after == only


def test_more_threads_than_cpus_leave_every_thread_on_the_callers_cpus(threads, caller_cpus):
    count = len(caller_cpus) + 1
    threads(count)
    seen, after = where_each_thread_ran(count)
    assert len(seen) == count
    assert all(cpus == caller_cpus for cpus, _ in seen.values()) and after == caller_cpus


def test_without_placement_the_threads_run_wherever_the_system_puts_them(threads, caller_cpus, monkeypatch):
    threads(2)
    monkeypatch.setattr(runtime, "PLACE_WORKERS", False)
    seen, after = where_each_thread_ran(2)
    assert all(cpus == caller_cpus for cpus, _ in seen.values()) and after == caller_cpus


def test_a_helper_whose_cpu_is_refused_runs_its_parts_where_it_is_and_serves_the_next_split(threads, caller_cpus,
                                                                                           monkeypatch):
    threads(2)
    set_affinity = os.sched_setaffinity

    def refuse_helpers(pid, cpus):
        if threading.current_thread().name.startswith("striate-worker"):
            raise OSError(22, "Invalid argument")
        set_affinity(pid, cpus)

    monkeypatch.setattr(os, "sched_setaffinity", refuse_helpers)
    for _ in range(2):  # the helper is still there for the second split
        started = threading.Barrier(2, timeout=10)  # passes only if the helper takes a part beside the caller

        def part(index, started=started):
            if index < 2:
                started.wait()
            return index * 10

        assert runtime.split_batch(part, range(4), work=runtime.PARALLEL_MIN_WORK) == [0, 10, 20, 30]


def test_the_splits_after_the_first_in_a_block_are_as_wide_at_the_default_thread_count(caller_cpus, monkeypatch):
    """Counted from the CPU set, the thread count must not shrink to the one CPU the block's first split holds."""
    monkeypatch.setattr(runtime, "_requested_threads", None)
    monkeypatch.setattr(runtime, "_variable_read", True)  # STRIATE_NUM_THREADS, if set, ignored
    with runtime.workers_only():
        first, held = where_each_thread_ran(2)
        assert len(held) == 1 and runtime.get_num_threads() == len(caller_cpus)
        second, _ = where_each_thread_ran(2)  # its barrier passes only if a helper takes a part beside the caller
    assert len(first) == len(second) == 2
    assert runtime.get_num_threads() == len(caller_cpus)


LIBRARY_POOL_STARTED_IN_A_BLOCK = """
import glob, os
import numpy as np
import striate
from striate.algorithms import fft
from striate.core import runtime

def threads_now():
    return {int(os.path.basename(task)) for task in glob.glob("/proc/self/task/*")}

striate.set_num_threads(2)
own = os.sched_getaffinity(0)
with runtime.workers_only():
    runtime.split_batch(lambda part: part, range(4), work=runtime.PARALLEL_MIN_WORK)
    held = os.sched_getaffinity(0)
    before = threads_now()
    fft.conv_forward(np.ones((4, 64, 64, 3), np.float32), np.ones((9, 9, 3, 8), np.float32), (1, 1), (1, 1), 1)
    assert os.sched_getaffinity(0) == held and len(held) == 1, held
print([sorted(own), *(sorted(os.sched_getaffinity(task)) for task in threads_now() - before)])
"""


def test_a_library_pool_started_inside_a_block_runs_on_the_callers_own_cpus_not_the_held_one():
    """scipy.fft starts its pool at its first multi-threaded transform, and its threads keep the CPU set they start
    with: started while a block holds the caller on one CPU, they would all run there for good."""
    run = subprocess.run([sys.executable, "-c", LIBRARY_POOL_STARTED_IN_A_BLOCK], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    own, *started = json.loads(run.stdout)
    assert started, "scipy.fft started no threads"
    assert all(cpus == own for cpus in started)


def test_inside_a_part_a_library_is_handed_one_thread_and_outside_all_of_them(threads):
    threads(2)

    def count_in_part(part):
        with runtime.library_threads() as count:
            return count

    assert runtime.split_batch(count_in_part, range(2), work=runtime.PARALLEL_MIN_WORK) == [1, 1]
    with runtime.library_threads() as count:
        assert count == 2
