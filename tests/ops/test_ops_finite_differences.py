"""Every primitive op's analytic gradient against float64 central differences (no PyTorch involved)."""

import pytest
from op_cases import OP_CASES

from oracle import check_finite_differences

# the tie case has no derivative (the gradient split is a convention): PyTorch pins it instead
DIFFERENTIABLE_CASES = [c for c in OP_CASES if "tied" not in c.name and "saturates" not in c.name]


@pytest.mark.parametrize("case", DIFFERENTIABLE_CASES, ids=[c.name for c in DIFFERENTIABLE_CASES])
def test_op_gradient_matches_central_differences(case):
    check_finite_differences(case.striate_fn, case.inputs(seed=1), constant=case.constant)
