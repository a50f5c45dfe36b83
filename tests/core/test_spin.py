"""The spin-wait of the helper threads: it sees another thread's write, gives up after its reads, lets the GIL go."""

import threading
import time

from striate.core import spin

MANY_POLLS = 10**8  # about 3 s of reads: a spin that misses the write returns False long before a test times out


def test_reached_is_true_at_once_when_the_counter_is_at_the_target():
    counter = spin.new_counter()
    counter[0] = 3
    assert spin.reached(counter, 3, 0, 0)
    assert spin.reached(counter, 2, 10, 0)


def test_reached_gives_up_after_its_reads():
    counter = spin.new_counter()
    assert not spin.reached(counter, 1, 1000, 0)


def test_reached_sees_a_write_from_a_python_thread_which_runs_while_it_spins():
    counter = spin.new_counter()
    spin.reached(counter, 1, 1, 0)  # compiled before the other thread starts

    def write_later():
        time.sleep(0.02)
        counter[0] = 1  # Python: runs only if the spinning thread has let the GIL go

    writer = threading.Thread(target=write_later)
    writer.start()
    try:
        assert spin.reached(counter, 1, MANY_POLLS, 0)
    finally:
        writer.join()


def test_signal_then_wait_sets_the_signal_before_it_waits():
    signal, counter = spin.new_counter(), spin.new_counter()
    assert not spin.signal_then_wait(signal, 7, counter, 1, 100, 0)
    assert signal[0] == 7
