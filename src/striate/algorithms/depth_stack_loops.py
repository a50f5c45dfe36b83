"""depth_stack's stack and its adjoint, compiled by numba: the input depths each output depth reads, side by side.

    stack[j, p, g, i, c] = x[n, o s_d + i d_d - before, p, g Cg + c]      (0 where that depth is padding)

for the 2-D image j = n D_out + o (clip n, output depth o), plane cell p (a row and column of H x W) and kernel
depth i: within each group, the group's Cg channels of kernel depth 0, then of depth 1, and so on. Each run of Cg
channels is copied as one contiguous run, the plane's cells in order.
"""

from numba import njit


@njit(nogil=True, cache=True, boundscheck=False)
def stack(x, first_image, out_depth, depth_step, before, stack):
    """stack (J, P, G, k_d, Cg) of the 2-D images first_image ... first_image + J - 1 from x (N, D, P, G Cg);
    depth_step: (s_d, d_d)."""
    depth, cells = x.shape[1], x.shape[2]
    images, _, groups, kernel_depth, per_group = stack.shape
    stride, dilation = depth_step
    zero = stack.dtype.type(0)
    for j in range(images):
        clip, out = divmod(first_image + j, out_depth)
        for i in range(kernel_depth):
            source = out * stride + i * dilation - before
            inside = 0 <= source < depth
            for p in range(cells):
                for g in range(groups):
                    target = stack[j, p, g, i]
                    if inside:
                        run = x[clip, source, p, g * per_group : (g + 1) * per_group]
                        for c in range(per_group):
                            target[c] = run[c]
                    else:
                        for c in range(per_group):
                            target[c] = zero


@njit(nogil=True, cache=True, boundscheck=False)
def add_stack(grad_stack, first_image, out_depth, depth_step, before, grad_input):
    """The adjoint of `stack`: grad_input (N, D, P, G Cg) += each cell of grad_stack (J, P, G, k_d, Cg) at the cell
    of x it was read from (padding's cells left out)."""
    depth, cells = grad_input.shape[1], grad_input.shape[2]
    images, _, groups, kernel_depth, per_group = grad_stack.shape
    stride, dilation = depth_step
    for j in range(images):
        clip, out = divmod(first_image + j, out_depth)
        for i in range(kernel_depth):
            target_depth = out * stride + i * dilation - before
            if not 0 <= target_depth < depth:
                continue
            for p in range(cells):
                for g in range(groups):
                    source = grad_stack[j, p, g, i]
                    run = grad_input[clip, target_depth, p, g * per_group : (g + 1) * per_group]
                    for c in range(per_group):
                        run[c] += source[c]
