"""`allreduce_sum`: the sum of a tensor over all ranks, as a primitive op that autodiff differentiates.

Forward, every rank r holds x_r and receives y = sum_s x_s. Backward, the loss of the job is the sum of every
rank's loss, and each rank's y depends on every x_s with derivative 1, so

    dLoss/dx_s = sum_r dLoss/dy_r,

the allreduce of the incoming gradients: the op is its own adjoint. Every rank must run the same forward and
backward passes in the same order, since each is a collective. In a job of one process it is the identity.
"""

from striate.core.function import Function
from striate.distributed.collectives import allreduce


class AllreduceSum(Function):
    def forward(self, x, what):
        self.what = what
        return allreduce(x, what=what)

    def backward(self, grad):
        return (allreduce(grad, what=f"the backward of {self.what}"),)


def allreduce_sum(x, what="allreduce_sum"):
    """sum over ranks of x (any shape, the same on every rank); gradient: the sum over ranks of the gradients.
    `what` names the call in the message printed if a rank stops answering."""
    return AllreduceSum.apply(x, what=what)
