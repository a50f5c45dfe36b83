"""The runtime: thread count, the pool and its splits, BLAS limits, per-thread modes, fork safety."""

import contextvars
import os
import subprocess
import sys
import threading
import time
import traceback

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import striate
from striate import Tensor
from striate.core import runtime


def blas_threads():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def run_python(code, *arguments, environment=None, timeout=120):
    """stdout of `python -c code`; fails the test (instead of hanging) when it runs past `timeout` seconds."""
    try:
        result = subprocess.run([sys.executable, "-c", code, *arguments], capture_output=True, text=True,
                                timeout=timeout, env={**os.environ, **(environment or {})})
    except subprocess.TimeoutExpired:
        pytest.fail(f"the child process ran past {timeout} s (hung)")
    assert result.returncode == 0, result.stderr
    return result.stdout


# ---- the thread count ------------------------------------------------------------------------------------------

def test_the_default_thread_count_is_the_cpus_this_process_may_run_on(monkeypatch):
    monkeypatch.setattr(runtime, "_requested_threads", None)
    monkeypatch.setattr(runtime, "_variable_read", True)
    assert runtime.get_num_threads() == len(os.sched_getaffinity(0))


def test_set_num_threads_sets_the_count_and_blas_threads_outside_splits(threads):
    threads(3)
    assert runtime.get_num_threads() == 3
    assert set(blas_threads()) == {3}  # a product striate does not split gets all 3
    inside = runtime.split_batch(lambda part: blas_threads(), range(3), work=runtime.PARALLEL_MIN_WORK)
    assert all(set(counts) == {1} for counts in inside)  # 3 parts on 3 threads, each BLAS on one
    assert set(blas_threads()) == {3}


@pytest.mark.parametrize("count", [0, -2, 1.5, True, "4"])
def test_set_num_threads_refuses_anything_but_a_positive_int(count):
    with pytest.raises(ValueError, match=f"set_num_threads: n must be a positive int; received n={count!r}"):
        runtime.set_num_threads(count)


def test_the_environment_variable_sets_the_count_and_is_left_unchanged():
    code = ("import os, striate.core.runtime as r; from threadpoolctl import threadpool_info\n"
            "print(r.get_num_threads(), sorted({p['num_threads'] for p in threadpool_info() if p['user_api'] == "
            "'blas'}), os.environ['STRIATE_NUM_THREADS'])")
    assert run_python(code, environment={"STRIATE_NUM_THREADS": "3"}).split() == ["3", "[3]", "3"]


def test_a_malformed_environment_variable_is_named_in_the_error():
    code = ("import striate.core.runtime as r\ntry:\n    r.get_num_threads()\nexcept ValueError as error:\n"
            "    print(error)")
    output = run_python(code, environment={"STRIATE_NUM_THREADS": "many"})
    assert output.strip() == "STRIATE_NUM_THREADS must be a positive integer; received 'many'"


# ---- split_batch -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [2, 3, 4])
def test_split_batch_shares_the_parts_among_n_threads_and_returns_them_in_order(threads, count):
    threads(count)
    started = threading.Barrier(count, timeout=10)  # passes only once `count` threads run parts at the same time

    def part(index):
        if index < count:
            started.wait()
        return index, threading.current_thread().name

    results = runtime.split_batch(part, range(3 * count), work=runtime.PARALLEL_MIN_WORK)
    assert [index for index, _ in results] == list(range(3 * count))
    assert len({name for _, name in results[:count]}) == count


def test_small_work_runs_on_the_calling_thread(threads):
    threads(4)
    names = runtime.split_batch(lambda part: threading.current_thread().name, range(8),
                                work=runtime.PARALLEL_MIN_WORK - 1)
    assert set(names) == {threading.current_thread().name}


def raise_in_a_worker(part):
    if threading.current_thread() is not threading.main_thread():
        raise ValueError(f"part {part} failed in a worker")
    time.sleep(0.01)  # the calling thread is slow, so the workers take parts too


def test_an_exception_in_a_worker_reaches_the_caller_with_its_traceback(threads):
    threads(2)
    assert threading.current_thread() is threading.main_thread()
    with pytest.raises(ValueError, match="failed in a worker") as caught:
        runtime.split_batch(raise_in_a_worker, range(6), work=runtime.PARALLEL_MIN_WORK)
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert frames[-1] == "raise_in_a_worker"  # the frame that raised, in the worker thread
    assert "take_parts" in frames


def test_the_first_failed_part_is_raised_after_every_part_has_stopped(threads):
    threads(3)
    running = []

    def part(index):
        running.append(index)
        time.sleep(0.02)
        running.remove(index)
        if index in (1, 2):
            raise ValueError(f"part {index}")

    with pytest.raises(ValueError, match="part 1"):
        runtime.split_batch(part, range(9), work=runtime.PARALLEL_MIN_WORK)
    assert running == []  # nothing still running once split_batch has returned


def test_a_split_inside_a_part_runs_in_that_thread_instead_of_waiting_for_busy_workers(threads):
    threads(2)

    def outer(part):
        return part, runtime.split_batch(lambda inner: inner * 10, range(4), work=runtime.PARALLEL_MIN_WORK)

    returned = {}
    caller = threading.Thread(target=lambda: returned.update(results=runtime.split_batch(
        outer, range(4), work=runtime.PARALLEL_MIN_WORK)), daemon=True)
    caller.start()
    caller.join(timeout=20)
    assert not caller.is_alive(), "split_batch inside a part deadlocked"
    assert returned["results"] == [(i, [0, 10, 20, 30]) for i in range(4)]


def cpu_seconds_of_thread(native_id):
    """User and system CPU time of one thread of this process, from /proc (in clock ticks' resolution)."""
    with open(f"/proc/self/task/{native_id}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux's /proc")
def test_a_helper_spins_only_briefly_after_a_split_and_then_uses_no_cpu(threads):
    threads(2)
    helper_ids = set()

    def part(index):
        if threading.current_thread() is not threading.main_thread():
            helper_ids.add(threading.get_native_id())
        time.sleep(0.01)  # the caller is slow, so the helper takes parts too
        return index

    for _ in range(20):  # the first split of a process may end before its helper has started
        runtime.split_batch(part, range(4), work=runtime.PARALLEL_MIN_WORK)
        if helper_ids:
            break
    assert helper_ids
    time.sleep(0.05)  # its spin (SPIN_POLLS reads, about 0.25 ms) is long over
    before = {native_id: cpu_seconds_of_thread(native_id) for native_id in helper_ids}
    time.sleep(1.0)
    used = {native_id: cpu_seconds_of_thread(native_id) - before[native_id] for native_id in helper_ids}
    assert all(seconds <= 0.05 for seconds in used.values()), used  # a helper spinning on would use about 1 s


def test_a_split_does_not_wait_for_a_helper_that_took_no_part(threads, monkeypatch):
    """A helper woken late (a halted virtual CPU) finds every part taken; the caller has done them and returns."""
    threads(2)
    helper_woke, release_helper = threading.Event(), threading.Event()
    run_on = runtime._run_on

    def slow_start(cpus):
        if threading.current_thread().name.startswith("striate-worker"):
            helper_woke.set()
            release_helper.wait(20)
        run_on(cpus)

    monkeypatch.setattr(runtime, "_run_on", slow_start)
    returned = {}

    def double(part):
        helper_woke.wait(20)  # the helper has started before the caller takes its first part
        return 2 * part

    caller = threading.Thread(target=lambda: returned.update(results=runtime.split_batch(
        double, range(3), work=runtime.PARALLEL_MIN_WORK)), daemon=True)
    caller.start()
    caller.join(timeout=10)
    release_helper.set()
    assert not caller.is_alive(), "split_batch waited for a helper that had taken no part"
    assert returned["results"] == [0, 2, 4]


# ---- BLAS limits -----------------------------------------------------------------------------------------------

def test_nested_blas_contexts_give_back_exactly_the_counts_they_found(threads):
    threads(3)
    with runtime.workers_only():
        assert set(blas_threads()) == {1}
        with runtime.single_threaded_blas(), runtime.workers_only():
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {1}
        runtime.split_batch(lambda part: None, range(4), work=runtime.PARALLEL_MIN_WORK)
        assert set(blas_threads()) == {1}
    assert set(blas_threads()) == {3}


def test_overlapping_contexts_in_two_threads_hold_blas_until_the_last_one_leaves(threads):
    """A enters, B enters, A leaves (B still needs one thread), B leaves: back to the count before A."""
    threads(3)
    b_entered, a_left, counts = threading.Event(), threading.Event(), {}

    def thread_b():
        with runtime.workers_only():
            b_entered.set()
            a_left.wait(10)
            counts["after A left"] = set(blas_threads())

    with runtime.workers_only():
        other = threading.Thread(target=thread_b)
        other.start()
        b_entered.wait(10)
    a_left.set()
    other.join(10)
    assert counts["after A left"] == {1}
    assert set(blas_threads()) == {3}


def test_set_num_threads_inside_a_hold_takes_effect_when_the_hold_ends(threads):
    threads(3)
    with runtime.single_threaded_blas():
        threads(2)
        assert set(blas_threads()) == {1}
    assert set(blas_threads()) == {2}


def test_parts_run_on_single_threaded_blas_in_a_workers_only_block_and_in_a_thread_that_copied_its_context(threads):
    """Inside the block its own hold covers the splits; a thread running in a copy of the block's context (so in
    workers_only mode) after the block has ended holds nothing, and its split takes a hold of its own."""
    threads(3)
    with runtime.workers_only():
        inside = runtime.split_batch(lambda part: blas_threads(), range(3), work=runtime.PARALLEL_MIN_WORK)
        context = contextvars.copy_context()
    assert all(set(counts) == {1} for counts in inside)
    seen = {}

    def split_in_the_copied_context():
        seen["mode"] = runtime.in_workers_only()
        seen["parts"] = runtime.split_batch(lambda part: blas_threads(), range(3), work=runtime.PARALLEL_MIN_WORK)

    other = threading.Thread(target=context.run, args=(split_in_the_copied_context,))
    other.start()
    other.join(timeout=20)
    assert seen["mode"] and all(set(counts) == {1} for counts in seen["parts"])
    assert set(blas_threads()) == {3}


def test_predict_holds_blas_to_one_thread_for_a_batch_and_gives_a_single_image_all_threads(threads):
    from striate.layers.layer import Layer

    threads(3)
    seen = []

    class BlasThreads(Layer):  # passes its input on, noting the BLAS threads the model's products would get
        def call(self, inputs, training=False):
            seen.append(set(blas_threads()))
            return inputs

    model = striate.Sequential([BlasThreads(input_shape=(4,)), striate.layers.Dense(2)])
    model.predict(np.ones((5, 4), np.float32), batch_size=4)  # a batch of 4, then a single image
    assert seen == [{1}, {3}]
    model.predict(np.ones((3, 4), np.float32), batch_size=4, verbose=0)  # one batch, without the batch loop
    model.predict(np.ones((1, 4), np.float32), verbose=0)
    assert seen == [{1}, {3}, {1}, {3}]
    assert set(blas_threads()) == {3}


# ---- per-thread modes ------------------------------------------------------------------------------------------

def test_no_grad_in_one_thread_does_not_change_another_threads_gradients():
    inside, computed, recorded = threading.Event(), threading.Event(), {}

    def without_gradients():
        with striate.no_grad():
            inside.set()
            computed.wait(10)
            x = Tensor([1.0, 2.0], requires_grad=True)
            recorded["requires_grad"] = (x * x).requires_grad

    other = threading.Thread(target=without_gradients)
    other.start()
    inside.wait(10)
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()  # while the other thread is inside no_grad()
    computed.set()
    other.join(10)
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])  # d(sum x^2)/dx = 2x
    assert recorded["requires_grad"] is False


def test_the_workers_see_the_callers_grad_mode(threads):
    threads(2)

    def grad_mode(part):
        time.sleep(0.005)  # slow, so both threads take parts
        return runtime.is_grad_enabled(), threading.current_thread().name

    with striate.no_grad():
        inside = runtime.split_batch(grad_mode, range(6), work=runtime.PARALLEL_MIN_WORK)
    outside = runtime.split_batch(grad_mode, range(6), work=runtime.PARALLEL_MIN_WORK)
    assert len({name for _, name in inside}) == 2
    assert {enabled for enabled, _ in inside} == {False}
    assert {enabled for enabled, _ in outside} == {True}


# ---- the same numbers on any number of threads ----------------------------------------------------------------

def training_step_result(count):
    """Weights and loss after two Adam steps of a small CNN with dropout (batch 64) on `count` threads."""
    runtime.set_num_threads(count)
    striate.set_random_seed(7)
    layers = striate.layers
    model = striate.Sequential([
        layers.Conv2D(16, 3, activation="relu", input_shape=(16, 16, 3)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2), layers.Dropout(0.5),
        layers.Flatten(), layers.Dense(64, activation="relu"), layers.Dropout(0.25),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 16, 16, 3), dtype=np.float32), rng.integers(0, 10, 64)
    losses = [model.train_on_batch(x, y) for _ in range(2)]
    return losses, [weight.numpy().copy() for weight in model.weights]


def test_a_training_step_with_dropout_is_bitwise_the_same_on_1_2_3_and_4_threads(threads, monkeypatch):
    from striate.algorithms import chunking

    monkeypatch.setattr(chunking, "CHUNK_BYTES", 2**16)  # several chunks per pass, so the threads share them
    monkeypatch.setattr(runtime, "PARALLEL_MIN_WORK", 0)  # and every pass is split
    helpers, used = runtime._helpers(), set()

    class RecordingHelpers:  # notes the name of every helper thread that joins a split
        def post(self, function, count):
            def recorded(helper, job):
                if helper < count:
                    used.add(threading.current_thread().name)
                function(helper, job)

            return helpers.post(recorded, count)

        def join(self, helper, number):
            helpers.join(helper, number)

        def wait_for(self, number, helper):
            helpers.wait_for(number, helper)

        def withdraw(self, number):
            helpers.withdraw(number)

    monkeypatch.setattr(runtime, "_helpers", RecordingHelpers)
    reference_losses, reference_weights = training_step_result(1)
    assert not used
    for count in (2, 3, 4):
        used.clear()
        losses, weights = training_step_result(count)
        assert len(used) == count - 1  # the parts really ran on `count` threads: this one and count - 1 workers
        assert losses == reference_losses
        for weight, reference in zip(weights, reference_weights):
            np.testing.assert_array_equal(weight, reference)


def test_fft_convolution_is_bitwise_the_same_on_1_and_3_threads(threads):
    from striate.algorithms import fft

    rng = np.random.default_rng(4)
    x, kernel = rng.standard_normal((4, 40, 40, 3)), rng.standard_normal((9, 9, 3, 5))
    grad = rng.standard_normal((4, 32, 32, 5))
    results = []
    for count in (1, 3):
        threads(count)
        results.append((fft.conv_forward(x, kernel, (1, 1), (1, 1), 1),
                        fft.conv_kernel_gradient(x, grad, kernel.shape, (1, 1), (1, 1), 1)))
    for one, three in zip(*results):
        np.testing.assert_array_equal(one, three)


@pytest.mark.parametrize("name", ["depth_slices", "depth_stack"])
def test_a_3d_convolution_by_depth_slices_or_stack_is_bitwise_the_same_on_1_and_3_threads(threads, name):
    from striate.algorithms import ALGORITHMS

    module = ALGORITHMS[name]

    rng = np.random.default_rng(5)
    x, kernel = rng.standard_normal((6, 6, 10, 10, 4)), rng.standard_normal((3, 3, 3, 4, 8))
    grad = rng.standard_normal((6, 4, 8, 8, 8))
    results = []
    for count in (1, 3):
        threads(count)
        results.append((module.conv_forward(x, kernel, (1, 1, 1), (1, 1, 1), 1),
                        module.conv_input_gradient(grad, kernel, x.shape, (1, 1, 1), (1, 1, 1), 1),
                        module.conv_kernel_gradient(x, grad, kernel.shape, (1, 1, 1), (1, 1, 1), 1)))
    for one, three in zip(*results):
        np.testing.assert_array_equal(one, three)


# ---- fork ------------------------------------------------------------------------------------------------------

FORKED_PREDICTS = """
import multiprocessing
import threading
import numpy as np
import striate
from striate.core import runtime

runtime.set_num_threads(2)
model = striate.models.mnist_cnn()
x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
expected = model.predict(x)  # the pool's worker thread now exists in this process, and not in a forked child


def predict(images):
    both = threading.Barrier(2, timeout=20)  # passes only if a worker thread runs a part beside this one
    runtime.split_batch(lambda part: both.wait(), range(2), work=runtime.PARALLEL_MIN_WORK)
    return model.predict(images)


with multiprocessing.get_context("fork").Pool(2) as pool:
    outputs = pool.map(predict, [x, x[:32], x])
print(np.array_equal(outputs[0], expected), np.array_equal(outputs[1], expected[:32]))
"""


def test_a_forked_pool_finishes_its_predicts_after_the_parent_used_the_threads():
    assert run_python(FORKED_PREDICTS, timeout=60).split() == ["True", "True"]


# ---- memory ----------------------------------------------------------------------------------------------------

# The lectures' MNIST CNN's training steps on random images (batch 128); prints the page faults of 5 steps after 3
# warm-up steps with compile's keep_freed_memory switch as given ("keep": on), then with the memory given back.
STEPS = """
import resource, sys
import numpy as np
import striate
from striate.core import runtime

model = striate.models.mnist_cnn()
model.compile("adam", "sparse_categorical_crossentropy", keep_freed_memory=sys.argv[1] == "keep")
rng = np.random.default_rng(0)
x, y = rng.random((128, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 128)


def faults_of_five_steps(warm_up):
    for _ in range(warm_up):
        model.train_on_batch(x, y)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        model.train_on_batch(x, y)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


print(faults_of_five_steps(3))
runtime.keep_freed_memory(False)
print(faults_of_five_steps(0))
"""


@pytest.mark.skipif(runtime._glibc() is None, reason="the C library is not glibc")
def test_kept_memory_spares_the_page_faults_and_giving_it_back_brings_them_back():
    """Kept, five steps after three fault almost never; given back (`malloc_trim` returns the free pages, the
    thresholds fall to 128 KiB), the steps that follow fault on fresh pages again. Only the steps right after are
    asserted: later ones fault or not depending on where glibc placed the arrays (a chunk still in its free lists
    is reused without a fault, the threshold notwithstanding; measured 0 and 77,000 faults in five steps after
    three, in two runs of the suite). glibc's own policy (compile's keep_freed_memory=False) adjusts its
    thresholds to the allocations it has seen: not asserted. The pages are counted at 4 KiB: NumPy's request for
    transparent huge pages is off in the child (NUMPY_MADVISE_HUGEPAGE=0), since where the kernel has huge pages
    free a fresh 2 MiB of an array is one fault (a run counted 42 instead of thousands)."""
    kept, given_back = map(int, run_python(STEPS, "keep", environment={"NUMPY_MADVISE_HUGEPAGE": "0"}).split())
    assert given_back > 1000  # measured 22,000-77,000 in five steps
    assert kept < given_back / 20


def test_keep_freed_memory_reports_what_is_in_force():
    kept = runtime.keep_freed_memory()
    assert kept == (runtime._glibc() is not None)
    assert runtime.keep_freed_memory(False) is False
    runtime.keep_freed_memory(kept)  # as the rest of the suite found it


# ---- small work: inline, with the pooled pass's bits -------------------------------------------------------------

VALUES = np.random.default_rng(1).standard_normal(4096).astype(np.float32)


def chunk_sums(parts, work):
    """Each part's sum, in float32, through split_batch (a reduction whose bits depend on the part boundaries)."""
    return runtime.split_batch(lambda part: VALUES[part].sum(), parts, work)


def test_a_pass_below_the_threshold_runs_inline_with_the_pooled_pass_bits(threads, monkeypatch):
    parts = [slice(start, start + 512) for start in range(0, 4096, 512)]
    threads(3)
    pooled = chunk_sums(parts, work=runtime.PARALLEL_MIN_WORK)

    def no_pool():
        raise AssertionError("a small pass asked for the pool")

    monkeypatch.setattr(runtime, "_helpers", no_pool)
    inline = chunk_sums(parts, work=runtime.PARALLEL_MIN_WORK - 1)
    assert [value.tobytes() for value in inline] == [value.tobytes() for value in pooled]
    one_part = chunk_sums([slice(0, 4096)], work=10 * runtime.PARALLEL_MIN_WORK)  # one part: inline, however large
    assert one_part[0].tobytes() == VALUES.sum().tobytes()


def test_one_image_is_one_chunk_in_every_mode_and_budget():
    from striate.algorithms.chunking import batch_chunks

    for bytes_per_image, budget in [(0, None), (10, 1), (2**30, None), (100, 10**9)]:
        assert batch_chunks(1, bytes_per_image, budget) == [slice(0, 1)]
        with runtime.workers_only():
            assert batch_chunks(1, bytes_per_image, budget) == [slice(0, 1)]


def test_a_single_image_predict_never_uses_the_pool_and_is_bitwise_the_same_on_1_and_4_threads(threads, monkeypatch):
    striate.set_random_seed(0)
    layers = striate.layers
    model = striate.Sequential([layers.InputLayer((12, 12, 3)), layers.Conv2D(8, 3, activation="relu"),
                                layers.MaxPooling2D(2), layers.Conv2D(8, 3, padding="same"), layers.Flatten(),
                                layers.Dense(10, activation="softmax")])
    image = np.random.default_rng(0).random((1, 12, 12, 3), dtype=np.float32)
    threads(1)
    on_one = model.predict(image, batch_size=1, verbose=0)

    def no_pool():
        raise AssertionError("a single image's predict asked for the pool")

    monkeypatch.setattr(runtime, "_helpers", no_pool)
    threads(4)
    on_four = model.predict(image, batch_size=1, verbose=0)
    assert on_four.tobytes() == on_one.tobytes()
