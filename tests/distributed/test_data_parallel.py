"""fit(distributed=...) on 2 and 3 MPI processes ends where one process with the same global batch ends.

Each job (job_train.py) trains a plain conv network and one with BatchNormalization(synchronized=True); the
reference is this process training the same networks with the same global batch size, the second with an
ordinary BatchNormalization over the whole batch. Over 3 ranks the batches split unevenly (16 = 6 + 5 + 5) and
the plain network's last batch of 2 leaves rank 2 without a sample. A third network trains on a folder of
images (image_dataset_from_directory), each rank reading only its files of each batch.
"""

import json
import re

import numpy as np
import pytest
from job_train import KINDS, train, write_folder
from mpi_jobs import run_python_job

import striate


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    write_folder(root)
    return root


@pytest.fixture(scope="module")
def single_process(folder):
    """{kind: (weights, history)} of one process (no MPI), seeded 0 as the jobs' rank 0."""
    results = {}
    for kind in KINDS:
        striate.set_random_seed(0)
        model, history = train(kind, False, synchronized=False, folder=folder)
        results[kind] = ([w.data.copy() for w in model.weights], history)
    return results


@pytest.fixture(scope="module", params=[2, 3], ids=["2 ranks", "3 ranks"])
def ranks(request, tmp_path_factory, folder):
    """[(weights, logs)] of each rank of a job of 2 and of 3 processes."""
    out = tmp_path_factory.mktemp("data_parallel")
    run_python_job(request.param, "job_train.py", out, folder)
    return [(np.load(out / f"rank{r}.npz"), json.loads((out / f"rank{r}.json").read_text()))
            for r in range(request.param)]


def test_ranks_end_with_the_weights_and_logs_of_one_process_with_the_global_batch(ranks, single_process):
    for kind, (expected_weights, expected_history) in single_process.items():
        for weights, logs in ranks:
            assert logs["size"] == len(ranks)
            for index, expected in enumerate(expected_weights):
                np.testing.assert_allclose(weights[f"{kind}/{index}"], expected, rtol=1e-5, atol=1e-6,
                                           err_msg=f"{kind} weight {index}")
            for key, values in expected_history.items():
                np.testing.assert_allclose(logs[kind][key], values, rtol=1e-5, err_msg=f"{kind} {key}")
        # every rank holds rank 0's weights exactly (the job also compared them after every step)
        for weights, _ in ranks[1:]:
            for index in range(len(expected_weights)):
                np.testing.assert_array_equal(weights[f"{kind}/{index}"], ranks[0][0][f"{kind}/{index}"])


def test_the_weight_check_raises_on_every_rank_when_one_rank_differs(ranks):
    for _, logs in ranks:
        assert logs["check_raised"] == (f"DataParallel: after a change on rank 1 the weights of 1 rank(s) of "
                                        f"{len(ranks)} differ from rank 0's")


def test_broadcast_of_json_and_arrays_gives_every_rank_rank_zeros_values():
    result = run_python_job(3, "job_broadcast.py")
    # the ranks' lines reach mpiexec's output in any order, and one may be cut into another
    assert sorted(re.findall(r"rank \d OK", result.stdout)) == ["rank 0 OK", "rank 1 OK", "rank 2 OK"]
