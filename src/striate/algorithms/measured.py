"""The measured choice between candidate algorithms (as cuDNN's benchmark mode): timed once per case and pass.

Where `AUTO_TABLE` names several candidates for a pass (a 3x3 stride-1 layer: Winograd saves multiplies, but on
small maps with many channels its per-call work on the kernel, (m + 2)^2 C_in C_out values, and its thin
per-cell products cost more than they save; im2col's one wide product then wins), the first call of that pass
on that geometry runs every candidate on the call's own data: once untimed (compiling, first-touch pages), then
ROUNDS times interleaved, and keeps the candidate whose best run was fastest (its result is returned) and
records its name. Every later call of the same case and pass runs the recorded algorithm alone.

The record is per process and shared by its threads (`measured_choices()` shows it, `forget_measured()` empties
it, `record(choices)` adds choices made elsewhere). Within a process the choice is fixed, so results stay the
same from call to call and at any thread count; two processes may choose differently where two candidates take
about the same time, and their results then differ in the last bits (each candidate equals the direct definition
to float rounding). A training checkpoint keeps the record, and resuming from it restores it
(`striate.training.checkpoint`); `striate.use_deterministic_algorithms(True)` makes "auto" take the first candidate
untimed, the same in every process.
"""

import threading
import time

ROUNDS = 3  # timed runs of each candidate, interleaved; the best of each counts
_choices: dict[tuple, str] = {}  # (pass, Case) -> the name of the fastest candidate
_changes = 0  # how often the record changed other than by a first measurement (`generation`)
_lock = threading.Lock()


def run(passes, case, candidates, call):
    """call(name) of the recorded fastest candidate for `case` and `passes` (a tuple of pass names timed together,
    such as both gradients), measuring them all first if none is recorded."""
    name = _choices.get((passes[0], case))
    if name is not None:
        return call(name)
    results = {candidate: call(candidate) for candidate in candidates}  # compiles, touches the pages
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(ROUNDS):  # interleaved, each candidate's best: a load spike on a shared machine spoils one run
        for candidate in candidates:
            start = time.perf_counter()
            results[candidate] = call(candidate)
            best[candidate] = min(best[candidate], time.perf_counter() - start)
    name = min(candidates, key=best.__getitem__)
    best_result = results[name]
    with _lock:
        for which in passes:
            _choices.setdefault((which, case), name)
    return best_result


def chosen(which, case):
    """The recorded choice for (which, case), or None if that pass has not run on that case yet."""
    return _choices.get((which, case))


def measured_choices():
    """A copy of the record: {(pass, Case): algorithm name}."""
    with _lock:
        return dict(_choices)


def record(choices):
    """Add {(pass, Case): algorithm name} to the record, as if measured here: a resumed training run takes the
    choices of the process that started it (`striate.training.checkpoint`), so it computes the same values."""
    global _changes
    with _lock:
        _choices.update(choices)
        _changes += 1


def forget_measured():
    """Empty the record: the next call of each case measures again."""
    global _changes
    with _lock:
        _choices.clear()
        _changes += 1


def generation():
    """A number that changes whenever a recorded choice may change other than by a first measurement (`record`,
    `forget_measured`): what is derived from the record (the convolution op's routes) is kept under it."""
    return _changes
