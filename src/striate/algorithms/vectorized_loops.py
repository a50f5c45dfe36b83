"""The direct convolution's inner block for `striate.algorithms.vectorized`, written in LLVM's vector instructions.

One block is P consecutive output pixels of one output row times one block of output channels (one or two SIMD
vectors of V values: V = 16 float32 or 8 float64, one 512-bit register):

    acc[p, :] = sum over kernel rows i, kernel columns j, input channels c of
                x[row + i d_h, (q + p) s_w + j d_w, c] * w[i, j, c, block]          p = 0 ... P - 1

Per (i, j, c) the block loads the weight vector(s) w[i, j, c, block] once, and for each of its P pixels reads one
input value, broadcasts it to a vector and adds its product with the weights into that pixel's accumulator: a
fused multiply-add on a whole vector of output channels. The P x (1 or 2) accumulators stay in registers for the
whole window (they are only stored at the end), so the loop does one load per multiply-add vector and no stores.

numba's loop vectorizer does not find this on its own (it vectorizes along the innermost loop, here the pixels of
one channel, whose inputs are C apart); the block is therefore written with numba's `intrinsic`, which lets a
compiled function emit LLVM IR: `<V x float>` loads, `llvm.fma` on vectors, and the three loops over (i, j, c).
The loops around it (images, output rows, blocks of a row, channel blocks) and the zero padding are ordinary
numba code (`conv_forward_loop`).

The kernel gradient's block (`_gradient_block`, looped by `conv_kernel_gradient`) turns the roles around: up to
16 input channels of one kernel cell are the accumulators, each a vector of output channels, and the loop runs over
the output pixels of a band of rows, one vector load of dy and one broadcast multiply-add per channel each. With up
to 8 input channels a block holds several kernel cells' channels, rows x columns x channels
(`few_channels_gradient_loop`, in smaller bands), so that each loaded vector of dy still feeds up to 16 multiply-adds.

With C_out not a multiple of V the last vector of a block is partial: the kernel carries zero filters up to whole
vectors, and the stores to y and the loads of dy take only the lanes below C_out (`llvm.masked.store`,
`llvm.masked.load`), so no memory past a pixel's channels is written or read.
"""

import functools

import numpy as np
from llvmlite import ir
from numba import literally, njit, types
from numba.core import cgutils
from numba.extending import intrinsic

REGISTER_BYTES = 64  # one AVX-512 register; on a machine with 256-bit registers LLVM splits each vector in two


def vector_length(dtype):
    """V: values of `dtype` in one vector register (16 float32, 8 float64)."""
    return REGISTER_BYTES // np.dtype(dtype).itemsize


class Vectors:
    """The LLVM IR pieces both blocks are built from, for one dtype: `vector` (<V x float> or <V x double>), flat
    addresses, vector loads and stores at any alignment, a scalar broadcast to all lanes, and llvm.fma on vectors."""

    def __init__(self, context, builder, numba_dtype):
        dtype = np.dtype(str(numba_dtype))
        self.builder, self.itemsize, self.length = builder, dtype.itemsize, vector_length(dtype)
        self.vector = ir.VectorType(context.get_value_type(numba_dtype), self.length)
        name = f"llvm.fma.v{self.length}f{8 * dtype.itemsize}"
        self.fma_function = builder.module.globals.get(name) or ir.Function(
            builder.module, ir.FunctionType(self.vector, [self.vector] * 3), name=name)

    @staticmethod
    def constant(number):
        return ir.Constant(ir.IntType(64), number)

    def at(self, data, offset):
        """The address of data[offset] (data a pointer, offset an i64 value)."""
        return self.builder.gep(data, [offset])

    def load_vector(self, address):
        return self.builder.load(self.builder.bitcast(address, self.vector.as_pointer()), align=self.itemsize)

    def store_vector(self, value, address):
        self.builder.store(value, self.builder.bitcast(address, self.vector.as_pointer()), align=self.itemsize)

    def broadcast(self, value):
        """<value, value, ..., value>."""
        undefined = ir.Constant(self.vector, ir.Undefined)
        first = self.builder.insert_element(undefined, value, ir.Constant(ir.IntType(32), 0))
        return self.builder.shuffle_vector(first, undefined, ir.Constant(ir.VectorType(ir.IntType(32), self.length),
                                                                         [0] * self.length))

    def fma(self, a, b, c):
        """a * b + c, lane by lane, one rounding."""
        return self.builder.call(self.fma_function, [a, b, c])

    def relu_if(self, value, relu):
        """max(value, 0) lane by lane (a NaN giving 0) where the i64 value `relu` is not 0, else value itself."""
        builder, zero = self.builder, ir.Constant(self.vector, [0.0] * self.length)
        rectified = builder.select(builder.fcmp_ordered(">", value, zero), value, zero)
        return builder.select(builder.icmp_signed("!=", relu, self.constant(0)), rectified, value)

    def _lane_numbers(self, length=None):
        length = length or self.length
        return ir.Constant(ir.VectorType(ir.IntType(64), length), list(range(length)))

    def _spread_integer(self, value, length=None):
        """<value, ..., value> of an i64 value, in `length` lanes (a vector's by default)."""
        length = length or self.length
        undefined = ir.Constant(ir.VectorType(ir.IntType(64), length), ir.Undefined)
        first = self.builder.insert_element(undefined, value, ir.Constant(ir.IntType(32), 0))
        return self.builder.shuffle_vector(first, undefined, ir.Constant(ir.VectorType(ir.IntType(32), length),
                                                                         [0] * length))

    def channel_blocks(self, channels):
        """The loop over the blocks of V channels of a pixel (the last one partial when V does not divide C, an i64
        value): yields (the block's first channel, the mask of its lanes below C) inside the loop's body."""
        length = self.constant(self.length)
        count = self.builder.sdiv(self.builder.add(channels, self.constant(self.length - 1)), length)
        with cgutils.for_range(self.builder, count) as block:
            first = self.builder.mul(block.index, length)
            yield first, self.first_lanes(self.builder.sub(channels, first))

    def first_lanes(self, count, length=None):
        """The mask <lane < count> (count an i64 value) of `length` lanes (a vector's by default): the first `count`
        lanes, all of them for count >= length."""
        return self.builder.icmp_signed("<", self._lane_numbers(length), self._spread_integer(count, length))

    def masked_scatter(self, value, address, lane_step, mask):
        """Store lane l of `value` at address + l lane_step values (lane_step an i64 value), for the lanes inside
        `mask`: a vector's lanes to memory `lane_step` values apart (`llvm.masked.scatter`)."""
        builder = self.builder
        offsets = builder.mul(self._lane_numbers(), self._spread_integer(builder.mul(lane_step,
                                                                                     self.constant(self.itemsize))))
        base = self._spread_integer(builder.ptrtoint(address, ir.IntType(64)))
        addresses = builder.inttoptr(builder.add(base, offsets), ir.VectorType(address.type, self.length))
        name = f"llvm.masked.scatter.v{self.length}f{8 * self.itemsize}.v{self.length}p0"
        function = builder.module.globals.get(name) or ir.Function(builder.module, ir.FunctionType(
            ir.VoidType(), [self.vector, addresses.type, ir.IntType(32), mask.type]), name=name)
        builder.call(function, [value, addresses, ir.Constant(ir.IntType(32), self.itemsize), mask])

    def _masked(self, operation, vector, arguments):
        mask = ir.VectorType(ir.IntType(1), vector.count)
        types = {"load": [vector.as_pointer(), ir.IntType(32), mask, vector],
                 "store": [vector, vector.as_pointer(), ir.IntType(32), mask]}[operation]
        name = f"llvm.masked.{operation}.v{vector.count}f{8 * self.itemsize}.p0"
        result = vector if operation == "load" else ir.VoidType()
        function = self.builder.module.globals.get(name) or ir.Function(
            self.builder.module, ir.FunctionType(result, types), name=name)
        return self.builder.call(function, arguments)

    def masked_load(self, address, mask, length=None):
        """The vector of `length` values (a vector register's by default) at `address`, its lanes outside `mask` zero
        (and not read: they may lie past an array's end)."""
        vector = ir.VectorType(self.vector.element, length or self.length)
        alignment = ir.Constant(ir.IntType(32), self.itemsize)
        return self._masked("load", vector, [self.builder.bitcast(address, vector.as_pointer()), alignment, mask,
                                             ir.Constant(vector, [0.0] * vector.count)])

    def zeroed_accumulators(self, count):
        """A stack array of `count` zero vectors, indexed by constants only, which LLVM keeps in registers."""
        accumulators = cgutils.alloca_once(self.builder, self.vector, size=count)
        zero = ir.Constant(self.vector, [0.0] * self.length)
        for slot in range(count):
            self.builder.store(zero, self.at(accumulators, self.constant(slot)))
        return accumulators

    def store_outputs(self, accumulators, pixels, vectors, y_data, y_start, y_step, lanes, bias_data, epilogue):
        """Store accumulator p * vectors + v, plus bias[first + v V ...], then max(., 0) if relu, at y_start + p y_step
        + v V in y, the first `lanes` lanes of the block (epilogue = (first, relu), as `_block` takes it)."""
        builder = self.builder
        masks = [self.first_lanes(builder.sub(lanes, self.constant(v * self.length))) for v in range(vectors)]
        first, relu = (builder.extract_value(epilogue, field) for field in range(2))
        biases = [self.load_vector(self.at(bias_data, builder.add(first, self.constant(v * self.length))))
                  for v in range(vectors)]
        for p in range(pixels):
            for v in range(vectors):
                target = builder.add(builder.add(y_start, builder.mul(self.constant(p), y_step)),
                                     self.constant(v * self.length))
                value = builder.fadd(builder.load(self.at(accumulators, self.constant(p * vectors + v))), biases[v])
                self.masked_store(self.relu_if(value, relu), self.at(y_data, target), masks[v])

    def masked_store(self, value, address, mask):
        """Store the lanes of `value` inside `mask` at `address`; memory under the others is left as it is."""
        alignment = ir.Constant(ir.IntType(32), self.itemsize)
        self._masked("store", self.vector, [value, self.builder.bitcast(address, self.vector.as_pointer()),
                                              alignment, mask])


@intrinsic(prefer_literal=True)
def _block(typingctx, pixels, vectors, constant_step, x, x_start, x_step, kernel, kernel_start, y, y_start, y_step,
           lanes, window, steps, bias, epilogue):
    """block(P, vectors, constant_step, x, x_start, x_step, kernel, kernel_start, y, y_start, y_step, lanes, window,
    steps, bias, epilogue): P output pixels times `vectors` vectors of output channels (see the module), on flat
    arrays: the P pixels' windows start x_step apart in x from x_start on, their vectors' first `lanes` values (all
    of them when lanes >= vectors V) are written y_step apart in y from y_start on.
    P, vectors and constant_step are compile-time constants: constant_step is x_step compiled in (s_w C_in along a
    row: the P reads of one step are then at fixed offsets), or 0 where x_step is read at run time.
    window = (kernel rows, kernel columns, run): the part of the window inside x, its first cell at x_start in x and
    at kernel_start in the kernel; `run` values are read per kernel column (C_in, or k_w C_in with one column when
    the window row is contiguous). steps = (x row step, x column step, kernel row step, kernel column step, kernel
    channel step) as flat offsets. Each sum is stored as max(sum + bias[first + lane], 0) with relu, else sum +
    bias[first + lane], for epilogue = (first, relu) (bias: K values, zeros for none; relu 0 or 1; a NaN gives 0,
    as `striate.ops.activation_loops`)."""
    if not all(isinstance(value, types.IntegerLiteral) for value in (pixels, vectors, constant_step)):
        return None
    # the literal types stay in the signature: each (P, vectors, constant_step) is its own implementation
    signature = types.void(pixels, vectors, constant_step, x, types.intp, types.intp, kernel, types.intp, y,
                           types.intp, types.intp, types.intp, window, steps, bias, epilogue)
    pixels, vectors, constant_step = pixels.literal_value, vectors.literal_value, constant_step.literal_value

    def codegen(context, builder, signature, arguments):
        (x_array, x_start, x_step, kernel_array, kernel_start, y_array, y_start, y_step, lanes, window,
         steps, bias_array, epilogue) = arguments[3:]
        kernel_high, columns, run = (builder.extract_value(window, field) for field in range(3))
        row_step, column_step, kernel_row_step, kernel_column_step, kernel_channels = (
            builder.extract_value(steps, field) for field in range(5))
        x_data = context.make_array(signature.args[3])(context, builder, x_array).data
        kernel_data = context.make_array(signature.args[6])(context, builder, kernel_array).data
        y_data = context.make_array(signature.args[8])(context, builder, y_array).data
        ir_ = Vectors(context, builder, signature.args[3].dtype)
        accumulators = ir_.zeroed_accumulators(pixels * vectors)
        with cgutils.for_range(builder, kernel_high) as i:
            x_row = builder.add(x_start, builder.mul(i.index, row_step))
            kernel_row = builder.add(kernel_start, builder.mul(i.index, kernel_row_step))
            with cgutils.for_range(builder, columns) as j:
                x_cell = builder.add(x_row, builder.mul(j.index, column_step))
                kernel_cell = builder.add(kernel_row, builder.mul(j.index, kernel_column_step))
                with cgutils.for_range(builder, run) as c:
                    kernel_channel = builder.add(kernel_cell, builder.mul(c.index, kernel_channels))
                    weights = [ir_.load_vector(ir_.at(kernel_data, builder.add(kernel_channel,
                                                                               ir_.constant(v * ir_.length))))
                               for v in range(vectors)]
                    x_channel = builder.add(x_cell, c.index)
                    for p in range(pixels):
                        offset = (ir_.constant(p * constant_step) if constant_step else
                                  builder.mul(ir_.constant(p), x_step))
                        spread = ir_.broadcast(builder.load(ir_.at(x_data, builder.add(x_channel, offset))))
                        for v in range(vectors):
                            slot = ir_.at(accumulators, ir_.constant(p * vectors + v))
                            builder.store(ir_.fma(spread, weights[v], builder.load(slot)), slot)
        bias_data = context.make_array(signature.args[14])(context, builder, bias_array).data
        ir_.store_outputs(accumulators, pixels, vectors, y_data, y_start, y_step, lanes, bias_data, epilogue)
        return context.get_dummy_value()

    return signature, codegen


class _LaneGroupInputs:
    """The inputs of a vector whose lanes are the outputs of V / b groups of b channels, each group reading a input
    channels: `load(address)` reads the (V / b) a input values of those groups at a pixel (one masked load: only the
    groups the block's `lanes` outputs reach, all of them for lanes >= V), and `spread(values, c)` puts in lane l
    the value of input channel c of lane l's group, values[(l // b) a + c] (one shuffle, a constant mask)."""

    def __init__(self, ir_, group_in, group_out, lanes):
        builder, self.ir_ = ir_.builder, ir_
        self.span = ir_.length // group_out * group_in
        self.undefined = ir.Constant(ir.VectorType(ir_.vector.element, self.span), ir.Undefined)
        groups_reached = builder.sdiv(builder.add(lanes, ir_.constant(group_out - 1)), ir_.constant(group_out))
        self.mask = ir_.first_lanes(builder.mul(groups_reached, ir_.constant(group_in)), self.span)
        self.shuffles = [ir.Constant(ir.VectorType(ir.IntType(32), ir_.length),
                                     [lane // group_out * group_in + c for lane in range(ir_.length)])
                         for c in range(group_in)]

    def load(self, address):
        return self.ir_.masked_load(address, self.mask, self.span)

    def spread(self, values, c):
        return self.ir_.builder.shuffle_vector(values, self.undefined, self.shuffles[c])


@intrinsic(prefer_literal=True)
def _lane_groups_block(typingctx, pixels, group_in, group_out, constant_step, x, x_start, x_step, kernel,
                       kernel_start, y, y_start, y_step, lanes, window, steps, bias, epilogue):
    """lane_groups_block(P, a, b, constant_step, ...), the rest as `_block` takes it (one vector of output channels):
    the block of a grouped convolution whose groups have b < V output channels (b dividing V), so that one vector
    holds the outputs of V / b neighbouring groups, and a input channels each. Lane l of the vector is output
    channel `first + l` of group (first + l) // b, which reads input channels (l // b) a + c, c < a, counted from
    the block's first group's (x_start points there):

        acc[p, l] = sum over kernel rows i, kernel columns j, c < a of
                    x[row + i d_h, (q + p) s_w + j d_w, (l // b) a + c] * w[i, j, c, first + l]

    Per kernel cell and pixel the (V / b) a input values of the vector's groups are one load (`span`, its values
    past the block's last group not read: a masked load), and the a broadcasts of `_block` become a shuffles of
    it, lane l taking span[(l // b) a + c]: one shuffle and one fused multiply-add per a vector of outputs. The
    window's `run` is not read: the a channels are compiled in, with P, b and constant_step."""
    if not all(isinstance(value, types.IntegerLiteral) for value in (pixels, group_in, group_out, constant_step)):
        return None
    signature = types.void(pixels, group_in, group_out, constant_step, x, types.intp, types.intp, kernel, types.intp,
                           y, types.intp, types.intp, types.intp, window, steps, bias, epilogue)
    pixels, group_in, group_out, constant_step = (value.literal_value for value in
                                                  (pixels, group_in, group_out, constant_step))

    def codegen(context, builder, signature, arguments):
        if not group_out:  # the variant of `_blocks_along` without lane groups types this call but never runs it
            return context.get_dummy_value()
        (x_array, x_start, x_step, kernel_array, kernel_start, y_array, y_start, y_step, lanes, window,
         steps, bias_array, epilogue) = arguments[4:]
        kernel_high, columns = (builder.extract_value(window, field) for field in range(2))
        row_step, column_step, kernel_row_step, kernel_column_step, kernel_channels = (
            builder.extract_value(steps, field) for field in range(5))
        x_data = context.make_array(signature.args[4])(context, builder, x_array).data
        kernel_data = context.make_array(signature.args[7])(context, builder, kernel_array).data
        y_data = context.make_array(signature.args[9])(context, builder, y_array).data
        ir_ = Vectors(context, builder, signature.args[4].dtype)
        inputs = _LaneGroupInputs(ir_, group_in, group_out, lanes)
        accumulators = ir_.zeroed_accumulators(pixels)
        with cgutils.for_range(builder, kernel_high) as i:
            x_row = builder.add(x_start, builder.mul(i.index, row_step))
            kernel_row = builder.add(kernel_start, builder.mul(i.index, kernel_row_step))
            with cgutils.for_range(builder, columns) as j:
                x_cell = builder.add(x_row, builder.mul(j.index, column_step))
                kernel_cell = builder.add(kernel_row, builder.mul(j.index, kernel_column_step))
                weights = [ir_.load_vector(ir_.at(kernel_data, builder.add(kernel_cell, builder.mul(
                    ir_.constant(c), kernel_channels)))) for c in range(group_in)]
                for p in range(pixels):
                    offset = (ir_.constant(p * constant_step) if constant_step else
                              builder.mul(ir_.constant(p), x_step))
                    values = inputs.load(ir_.at(x_data, builder.add(x_cell, offset)))
                    slot = ir_.at(accumulators, ir_.constant(p))
                    for c in range(group_in):
                        builder.store(ir_.fma(inputs.spread(values, c), weights[c], builder.load(slot)), slot)
        bias_data = context.make_array(signature.args[15])(context, builder, bias_array).data
        ir_.store_outputs(accumulators, pixels, 1, y_data, y_start, y_step, lanes, bias_data, epilogue)
        return context.get_dummy_value()

    return signature, codegen


@intrinsic(prefer_literal=True)
def _gradient_block(typingctx, rows, cells, channels, vectors, x, x_start, x_step, grad, grad_start, count,
                    row_count, kernel_grad, kernel_start, steps):
    """gradient_block(R, J, C, vectors, x, x_start, x_step, grad, grad_start, count, row_count, kernel_grad,
    kernel_start, steps): for a block of R kernel rows i x J kernel columns j x C input channels c (compile-time
    constants, as `vectors`) and one block of `vectors` vectors of output channels, with steps = (grad step, kernel
    channel step, lanes, x column step, kernel column step, x row step, kernel row step, x output-row step, grad
    output-row step),

        kernel_grad[kernel_start + i kernel_row_step + j kernel_column_step + c kernel_channel_step + block]
            += sum over r < row_count, k < count of
                   x[x_start + r x_output_row_step + k x_step + i x_row_step + j x_column_step + c]
                   * grad[grad_start + r grad_output_row_step + k grad_step + block]

    on flat arrays: R J C kernel values' gradients from `row_count` output rows of `count` pixels each, in that
    order, grad read in its first `lanes` channels of the block (the others as zeros). The R J C x vectors
    accumulators are loaded once, stay in registers over all the pixels (one vector load of grad and R J C
    broadcast multiply-adds per pixel), and are stored once: loaded and stored per row of 16 pixels (18x18x32 -> 32
    at batch 64) they made the pass 1.28x the time of the same work in rows of 64."""
    if not all(isinstance(value, types.IntegerLiteral) for value in (rows, cells, channels, vectors)):
        return None
    signature = types.void(rows, cells, channels, vectors, x, types.intp, types.intp, grad, types.intp, types.intp,
                           types.intp, kernel_grad, types.intp, steps)
    vectors = vectors.literal_value
    cells_of_block = [(i, j, c) for i in range(rows.literal_value) for j in range(cells.literal_value)
                      for c in range(channels.literal_value)]

    def codegen(context, builder, signature, arguments):
        (x_array, x_start, x_step, grad_array, grad_start, count, row_count, kernel_array, kernel_start,
         steps) = arguments[4:]
        (grad_step, kernel_channel_step, lanes, x_column_step, kernel_column_step, x_row_step, kernel_row_step,
         x_output_row_step, grad_output_row_step) = (builder.extract_value(steps, field) for field in range(9))
        x_data = context.make_array(signature.args[4])(context, builder, x_array).data
        grad_data = context.make_array(signature.args[7])(context, builder, grad_array).data
        kernel_data = context.make_array(signature.args[11])(context, builder, kernel_array).data
        ir_ = Vectors(context, builder, signature.args[4].dtype)
        masks = [ir_.first_lanes(builder.sub(lanes, ir_.constant(v * ir_.length))) for v in range(vectors)]

        def offset(i, j, c, row_step, column_step, channel_step):
            return builder.add(builder.add(builder.mul(ir_.constant(i), row_step),
                                           builder.mul(ir_.constant(j), column_step)),
                               builder.mul(ir_.constant(c), channel_step))

        starts = [builder.add(kernel_start, offset(i, j, c, kernel_row_step, kernel_column_step, kernel_channel_step))
                  for i, j, c in cells_of_block]
        slots = [[ir_.at(kernel_data, builder.add(start, ir_.constant(v * ir_.length))) for v in range(vectors)]
                 for start in starts]
        x_offsets = [offset(i, j, c, x_row_step, x_column_step, ir_.constant(1)) for i, j, c in cells_of_block]
        accumulators = cgutils.alloca_once(builder, ir_.vector, size=len(slots) * vectors)
        for index in range(len(slots)):
            for v in range(vectors):
                builder.store(ir_.load_vector(slots[index][v]), ir_.at(accumulators, ir_.constant(index * vectors + v)))
        with cgutils.for_range(builder, row_count) as r:
            grad_row = builder.add(grad_start, builder.mul(r.index, grad_output_row_step))
            x_row = builder.add(x_start, builder.mul(r.index, x_output_row_step))
            with cgutils.for_range(builder, count) as k:
                grad_pixel = builder.add(grad_row, builder.mul(k.index, grad_step))
                gradients = [ir_.masked_load(ir_.at(grad_data, builder.add(grad_pixel, ir_.constant(v * ir_.length))),
                                             masks[v]) for v in range(vectors)]
                x_pixel = builder.add(x_row, builder.mul(k.index, x_step))
                for index in range(len(slots)):
                    spread = ir_.broadcast(builder.load(ir_.at(x_data, builder.add(x_pixel, x_offsets[index]))))
                    for v in range(vectors):
                        slot = ir_.at(accumulators, ir_.constant(index * vectors + v))
                        builder.store(ir_.fma(spread, gradients[v], builder.load(slot)), slot)
        for index in range(len(slots)):
            for v in range(vectors):
                ir_.store_vector(builder.load(ir_.at(accumulators, ir_.constant(index * vectors + v))), slots[index][v])
        return context.get_dummy_value()

    return signature, codegen


@intrinsic(prefer_literal=True)
def _lane_groups_gradient_block(typingctx, group_in, group_out, x, x_start, x_step, grad, grad_start, count,
                                row_count, kernel_grad, kernel_start, steps):
    """lane_groups_gradient_block(a, b, x, x_start, x_step, grad, grad_start, count, row_count, kernel_grad,
    kernel_start, steps): `_gradient_block` of one kernel cell (R = J = 1, C = a, one vector) for a grouped
    convolution whose groups of a input and b < V output channels share the vector (`_lane_groups_block`): lane l
    of accumulator c sums x[..., (l // b) a + c] * grad[..., first + l], the input values of the vector's groups one
    (masked) load per pixel from x_start on and the a broadcasts of `_gradient_block` shuffles of it. steps as
    `_gradient_block` takes them."""
    if not all(isinstance(value, types.IntegerLiteral) for value in (group_in, group_out)):
        return None
    signature = types.void(group_in, group_out, x, types.intp, types.intp, grad, types.intp, types.intp, types.intp,
                           kernel_grad, types.intp, steps)
    group_in, group_out = group_in.literal_value, group_out.literal_value

    def codegen(context, builder, signature, arguments):
        if not group_out:  # the variant of `conv_kernel_gradient` without lane groups types this call, never runs it
            return context.get_dummy_value()
        (x_array, x_start, x_step, grad_array, grad_start, count, row_count, kernel_array, kernel_start,
         steps) = arguments[2:]
        grad_step, kernel_channel_step, lanes = (builder.extract_value(steps, field) for field in range(3))
        x_output_row_step, grad_output_row_step = (builder.extract_value(steps, field) for field in (7, 8))
        x_data = context.make_array(signature.args[2])(context, builder, x_array).data
        grad_data = context.make_array(signature.args[5])(context, builder, grad_array).data
        kernel_data = context.make_array(signature.args[9])(context, builder, kernel_array).data
        ir_ = Vectors(context, builder, signature.args[2].dtype)
        inputs = _LaneGroupInputs(ir_, group_in, group_out, lanes)
        mask = ir_.first_lanes(lanes)
        slots = [ir_.at(kernel_data, builder.add(kernel_start, builder.mul(ir_.constant(c), kernel_channel_step)))
                 for c in range(group_in)]
        accumulators = cgutils.alloca_once(builder, ir_.vector, size=group_in)
        for c in range(group_in):
            builder.store(ir_.load_vector(slots[c]), ir_.at(accumulators, ir_.constant(c)))
        with cgutils.for_range(builder, row_count) as r:
            grad_row = builder.add(grad_start, builder.mul(r.index, grad_output_row_step))
            x_row = builder.add(x_start, builder.mul(r.index, x_output_row_step))
            with cgutils.for_range(builder, count) as k:
                gradient = ir_.masked_load(ir_.at(grad_data, builder.add(grad_row, builder.mul(k.index, grad_step))),
                                           mask)
                values = inputs.load(ir_.at(x_data, builder.add(x_row, builder.mul(k.index, x_step))))
                for c in range(group_in):
                    slot = ir_.at(accumulators, ir_.constant(c))
                    builder.store(ir_.fma(inputs.spread(values, c), gradient, builder.load(slot)), slot)
        for c in range(group_in):
            ir_.store_vector(builder.load(ir_.at(accumulators, ir_.constant(c))), slots[c])
        return context.get_dummy_value()

    return signature, codegen


@njit(nogil=True, cache=True, boundscheck=False)
def _blocks_along(vectors, constant_step, group_in, group_out, x, x_start, x_step, kernel, kernel_start, y, y_start,
                  y_step, lanes, count, window, steps, bias, epilogue):
    """`count` output pixels whose windows are x_step apart in x and whose outputs are y_step apart in y (their
    first `lanes` channels of the block written, as `_block`), in blocks of 8 pixels while more than 4 are left,
    then one of 4 (runs of 4 to 7: blocks of 4; shorter runs: of 2 or 1), a block that would pass the run's end
    moved back to end with it (it recomputes a few pixels, to the same values). A tail of 1 to 4 pixels thus costs
    a block of 4, not of 8 (rows of 10 outputs, LeNet's second layer: 8 + 4, not 8 + 8; 0.77-0.85x the time), and
    never blocks of 2 or 1, whose few accumulators wait on the multiply-add's latency (rows of 7 in blocks of 4, 2
    and 1: 1.39x the time of two blocks of 4). `vectors`, `constant_step` (x_step, or 0: see `_block`),
    `group_in` and `group_out` are compiled in as constants: group_out 0 runs `_block`, else `_lane_groups_block`
    with groups of a = group_in input and b = group_out output channels; bias and epilogue as `_block` takes them."""
    literally(vectors)
    literally(constant_step)
    literally(group_in)
    literally(group_out)
    start = 0
    while start < count:
        left = count - start
        size = 8 if count >= 8 and left > 4 else 4 if count >= 4 else 2 if count >= 2 else 1
        start = min(start, count - size)
        x_block, y_block = x_start + start * x_step, y_start + start * y_step
        if group_out:
            _lane_groups_along(size, group_in, group_out, constant_step, x, x_block, x_step, kernel, kernel_start, y,
                               y_block, y_step, lanes, window, steps, bias, epilogue)
        elif size == 8:  # the block size as a literal, which `_block` compiles in
            _block(8, vectors, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step, lanes,
                   window, steps, bias, epilogue)
        elif size == 4:
            _block(4, vectors, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step, lanes,
                   window, steps, bias, epilogue)
        elif size == 2:
            _block(2, vectors, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step, lanes,
                   window, steps, bias, epilogue)
        else:
            _block(1, vectors, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step, lanes,
                   window, steps, bias, epilogue)
        start += size


@njit(nogil=True, cache=True, boundscheck=False)
def _lane_groups_along(size, a, b, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step,
                       lanes, window, steps, bias, epilogue):
    """`_lane_groups_block` of `size` (8, 4, 2 or 1) pixels, for groups of a input and b output channels."""
    literally(a)
    literally(b)
    literally(constant_step)
    if size == 8:  # the block size as a literal, which `_lane_groups_block` compiles in
        _lane_groups_block(8, a, b, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step,
                           lanes, window, steps, bias, epilogue)
    elif size == 4:
        _lane_groups_block(4, a, b, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step,
                           lanes, window, steps, bias, epilogue)
    elif size == 2:
        _lane_groups_block(2, a, b, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step,
                           lanes, window, steps, bias, epilogue)
    else:
        _lane_groups_block(1, a, b, constant_step, x, x_block, x_step, kernel, kernel_start, y, y_block, y_step,
                           lanes, window, steps, bias, epilogue)


@njit(nogil=True, cache=True)
def _cells_inside(position, stride, before, kernel_size, dilation, size):
    """(first, count): the kernel cells k = first ... first + count - 1 of output `position` whose input index
    position * stride - before + k * dilation lies in 0 ... size - 1."""
    start = position * stride - before
    first = -(start // dilation) if start < 0 else 0  # ceil(-start / dilation)
    last = min(kernel_size, (size - 1 - start) // dilation + 1)
    return first, max(0, last - first)


@njit(nogil=True, cache=True)
def _window(rows, columns, group_channels, channels, dilation):
    """(kernel rows, kernel columns, run) for `_block`, a kernel cell reading `group_channels` of x's `channels`:
    with dilation 1 and one group a window row's cells are one run of columns * C_in values, in x and in the
    kernel."""
    if dilation == 1 and group_channels == channels:
        return (rows, 1, columns * channels)
    return (rows, columns, group_channels)


@njit(nogil=True, cache=True)
def _outputs_seeing(offset, stride, out_size, size):
    """(first, last): the output positions first ... last - 1 whose input index position * stride + offset lies in
    0 ... size - 1 (offset: a kernel cell's k * dilation - before)."""
    first = min(out_size, -(offset // stride) if offset < 0 else 0)  # ceil(-offset / stride)
    return first, max(first, min(out_size, (size - 1 - offset) // stride + 1))


@njit(nogil=True, cache=True)
def _inside_positions(out_size, stride, before, kernel_size, dilation, size):
    """(first, last): output positions first ... last - 1 see only input cells (no padding) along one axis: those
    whose first kernel cell and last kernel cell both lie in x."""
    first = _outputs_seeing(-before, stride, out_size, size)[0]
    last = _outputs_seeing((kernel_size - 1) * dilation - before, stride, out_size, size)[1]
    return first, max(first, last)


@functools.cache
def conv_forward_loop(vectors, pixel_step, lane_groups=(0, 0)):
    """The compiled convolution of a chunk in output-channel blocks of `vectors` (1 or 2) vectors, neighbouring
    output pixels' windows `pixel_step` = s_w C_in values apart along a row, and lane_groups = (a, b) for a grouped
    convolution whose groups of a input and b < V output channels share a vector (`_lane_groups_block`), else
    (0, 0) (all compiled in as constants):

        loop(x, kernel, padding, strides, dilation, y, placement, bias, relu)

    writes the convolution of x (n, H, W, C_in), zero-padded by padding = (top, bottom, left, right), with kernel
    (K / B, k_h, k_w, C_in, B) in blocks of B = `vectors` vectors of filters (block b holds filters b B to
    b B + B - 1), or (1, k_h, k_w, C_in, K) with the filters side by side (K >= C_out; the filters past C_out are
    not stored: masked stores), plus bias (K,), then max(., 0) if relu (0 or 1), into y (n, Y_h, Y_w, C_out); a
    kernel of C_in / G channels per filter is a grouped convolution, G groups of C_in / G input and C_out / G
    output channels, a block of filters reading its groups' input channels (C_out / G a multiple of the block's
    width, or lane groups); with
    placement = (H_out, W_out, row, column, row step, column step), its output pixel (p, q) to y[:, row + p row
    step, column + q column step] (all of y: (Y_h, Y_w, 0, 0, 1, 1)); x, kernel, y and bias contiguous, of one
    dtype. The padding is never built: the outputs whose windows lie inside x's width run in blocks along each row
    (the kernel rows on padding left out); the output columns at the left and right edges run in blocks down the
    column (the kernel columns on padding left out), and their corner pixels one by one. Compiled on its first call
    for each dtype, and kept on disk."""

    group_in, group_out = lane_groups

    @njit(nogil=True, cache=True, boundscheck=False)
    def loop(x, kernel, padding, strides, dilation, y, placement, bias, relu):
        images, high, wide, channels = x.shape
        _, kernel_high, kernel_wide, group_channels, kernel_channels = kernel.shape
        _, y_high, y_wide, channels_out = y.shape
        group_filters = channels_out // (channels // group_channels)
        out_high, out_wide, y_first_row, y_first_column, y_row_stride, y_column_stride = placement
        top, _, left, _ = padding
        s_h, s_w = strides
        d_h, d_w = dilation
        flat_x, flat_kernel, flat_y = x.reshape(-1), kernel.reshape(-1), y.reshape(-1)
        kernel_column_step = group_channels * kernel_channels
        kernel_row_step = kernel_wide * kernel_column_step
        kernel_block_step = kernel_high * kernel_row_step
        steps = (d_h * wide * channels, d_w * channels, kernel_row_step, kernel_column_step, kernel_channels)
        y_row_step, y_column_step = y_row_stride * y_wide * channels_out, y_column_stride * channels_out
        y_origin = (y_first_row * y_wide + y_first_column) * channels_out
        block_channels = vectors * (REGISTER_BYTES // x.itemsize)
        first_row, last_row = _inside_positions(out_high, s_h, top, kernel_high, d_h, high)
        first_column, last_column = _inside_positions(out_wide, s_w, left, kernel_wide, d_w, wide)
        inside_columns = last_column - first_column
        for n in range(images):
            for first in range(0, channels_out, block_channels):
                y_image, lanes = n * y_high * y_wide * channels_out + y_origin + first, channels_out - first
                # the block's first filter: block `first // B` of the blocked layout, or filter `first` of the
                # filters side by side (one "block" of all K: kernel_channels = K)
                kernel_block = first // kernel_channels * kernel_block_step + first % kernel_channels
                group_x = first // group_filters * group_channels  # the block's first group's first input channel
                # along each output row, the columns whose windows are inside x's width
                for p in range(out_high):
                    i_first, rows = _cells_inside(p, s_h, top, kernel_high, d_h, high)
                    x_start = (((n * high + p * s_h - top + i_first * d_h) * wide + first_column * s_w - left)
                               * channels + group_x)
                    _blocks_along(vectors, pixel_step, group_in, group_out, flat_x, x_start, pixel_step, flat_kernel,
                                  kernel_block + i_first * kernel_row_step, flat_y,
                                  y_image + p * y_row_step + first_column * y_column_step, y_column_step, lanes,
                                  inside_columns, _window(rows, kernel_wide, group_channels, channels, d_w), steps,
                                  bias, (first, relu))
                # the edge columns: down the rows whose windows are inside x's height, then the corners one by one
                for index in range(out_wide - inside_columns):
                    q = index if index < first_column else index + inside_columns
                    j_first, columns = _cells_inside(q, s_w, left, kernel_wide, d_w, wide)
                    x_column = (q * s_w - left + j_first * d_w) * channels + group_x
                    for p in range(out_high):
                        if first_row < p < last_row:
                            continue  # in the run from first_row
                        inside = p == first_row < last_row
                        i_first, rows = _cells_inside(p, s_h, top, kernel_high, d_h, high)
                        x_start = (n * high + p * s_h - top + i_first * d_h) * wide * channels + x_column
                        _blocks_along(vectors, 0, group_in, group_out, flat_x, x_start, s_h * wide * channels,
                                      flat_kernel,
                                      kernel_block + i_first * kernel_row_step + j_first * kernel_column_step, flat_y,
                                      y_image + p * y_row_step + q * y_column_step, y_row_step, lanes,
                                      last_row - first_row if inside else 1,
                                      _window(rows, columns, group_channels, channels, d_w), steps, bias, (first, relu))

    return loop


@njit(nogil=True, cache=True, boundscheck=False)
def _gradient_channels(vectors, channels, x, x_start, x_step, grad, grad_start, count, row_count, kernel_grad,
                       kernel_start, steps):
    """`_gradient_block` of one kernel cell over `channels` input channels from x_start and kernel_start on, in
    blocks of 16 (one vector of output channels) or 8 (two), then 4, 2, 1: at most 16 accumulators. `vectors` is
    compiled in; steps as `_gradient_block` takes them."""
    literally(vectors)
    c = 0
    while c < channels:
        remaining = channels - c
        x_block, kernel_block = x_start + c, kernel_start + c * steps[1]
        if remaining >= 16 and vectors == 1:  # the block size as a literal, which `_gradient_block` compiles in
            _gradient_block(1, 1, 16, vectors, x, x_block, x_step, grad, grad_start, count, row_count,
                            kernel_grad, kernel_block, steps)
            c += 16
        elif remaining >= 8:
            _gradient_block(1, 1, 8, vectors, x, x_block, x_step, grad, grad_start, count, row_count,
                            kernel_grad, kernel_block, steps)
            c += 8
        elif remaining >= 4:
            _gradient_block(1, 1, 4, vectors, x, x_block, x_step, grad, grad_start, count, row_count,
                            kernel_grad, kernel_block, steps)
            c += 4
        elif remaining >= 2:
            _gradient_block(1, 1, 2, vectors, x, x_block, x_step, grad, grad_start, count, row_count,
                            kernel_grad, kernel_block, steps)
            c += 2
        else:
            _gradient_block(1, 1, 1, vectors, x, x_block, x_step, grad, grad_start, count, row_count,
                            kernel_grad, kernel_block, steps)
            c += 1


GRADIENT_BAND_BYTES = 256 * 2**10  # the rows of x and dy a band of output rows reads: within the L2 cache


@njit(nogil=True, cache=True)
def _band_rows(budget, row_values, itemsize):
    """The output rows per band of a kernel gradient: as many as keep `budget` bytes of rows of x and dy (row_values
    values per output row), at least one."""
    return max(1, budget // (row_values * itemsize))


@njit(nogil=True, cache=True, boundscheck=False)
def _lane_groups_gradient(group_in, group_out, x, x_start, x_step, grad, grad_start, count, row_count, kernel_grad,
                          kernel_start, steps):
    """`_lane_groups_gradient_block` with a = group_in and b = group_out compiled in."""
    literally(group_in)
    literally(group_out)
    _lane_groups_gradient_block(group_in, group_out, x, x_start, x_step, grad, grad_start, count, row_count,
                                kernel_grad, kernel_start, steps)


@functools.cache
def conv_kernel_gradient_loop(vectors, lane_groups=(0, 0)):
    """`conv_kernel_gradient` with `vectors` and lane_groups = (a, b) (as `conv_forward_loop` takes them) compiled in
    as constants: loop(x, grad, padding, strides, dilation, kernel_grad)."""
    group_in, group_out = lane_groups

    @njit(nogil=True, cache=True, boundscheck=False)
    def loop(x, grad, padding, strides, dilation, kernel_grad):
        conv_kernel_gradient(x, grad, padding, strides, dilation, vectors, group_in, group_out, kernel_grad)

    return loop


@njit(nogil=True, cache=True, boundscheck=False)
def conv_kernel_gradient(x, grad, padding, strides, dilation, vectors, group_in, group_out, kernel_grad):
    """kernel_grad (k_h, k_w, C_in, K) += the kernel gradient of a chunk: x (n, H, W, C_in) zero-padded by
    padding = (top, bottom, left, right), grad = dLoss/dy (n, H_out, W_out, C_out), in output-channel blocks of
    `vectors` (1 or 2) vectors; K >= C_out is C_out rounded up to whole vectors (the lanes past C_out stay zero):

        kernel_grad[i, j, c, :C_out] += sum over n, p, q of x[n, p s_h + i d_h - top, q s_w + j d_w - left, c]
                                                            * grad[n, p, q, :]

    in bands of output rows whose rows of grad and of x stay in the cache (GRADIENT_BAND_BYTES) while every kernel
    cell takes its share of the band in one block per channel block (`_gradient_channels`): the rectangle of the
    band's output pixels whose input lies in x (the padding is never built). Each value's sum runs over n, p, q in
    order. All arrays contiguous, of one dtype. A kernel_grad of C_in / G channels per filter is a grouped
    convolution's (as in `conv_forward_loop`): each block of output channels sums its groups' input channels, with
    group_out = b < V of them per group the blocks of `_lane_groups_gradient_block` (group_in = a), else
    group_out = 0. `vectors`, `group_in` and `group_out` are compiled in as constants: call it from compiled code
    (`conv_kernel_gradient_loop`), where they are."""
    literally(vectors)
    literally(group_in)
    literally(group_out)
    images, high, wide, channels = x.shape
    kernel_high, kernel_wide, group_channels, kernel_channels = kernel_grad.shape
    group_filters = grad.shape[3] // (channels // group_channels)
    out_high, out_wide, channels_out = grad.shape[1], grad.shape[2], grad.shape[3]
    top, _, left, _ = padding
    s_h, s_w = strides
    d_h, d_w = dilation
    flat_x, flat_grad, flat_kernel = x.reshape(-1), grad.reshape(-1), kernel_grad.reshape(-1)
    block_channels = vectors * (REGISTER_BYTES // x.itemsize)
    x_output_row_step, grad_output_row_step = s_h * wide * channels, out_wide * channels_out
    band = _band_rows(GRADIENT_BAND_BYTES, x_output_row_step + grad_output_row_step, x.itemsize)
    for n in range(images):
        for band_start in range(0, out_high, band):
            for i in range(kernel_high):
                p_first, p_last = _outputs_seeing(i * d_h - top, s_h, out_high, high)
                p_first, p_last = max(p_first, band_start), min(p_last, band_start + band)
                if p_last <= p_first:
                    continue
                x_row = (n * high + p_first * s_h + i * d_h - top) * wide * channels
                for j in range(kernel_wide):
                    q_first, q_last = _outputs_seeing(j * d_w - left, s_w, out_wide, wide)
                    x_start = x_row + (q_first * s_w + j * d_w - left) * channels
                    grad_start = ((n * out_high + p_first) * out_wide + q_first) * channels_out
                    kernel_start = (i * kernel_wide + j) * group_channels * kernel_channels
                    for first in range(0, channels_out, block_channels):
                        steps = (channels_out, kernel_channels, channels_out - first, 0, 0, 0, 0, x_output_row_step,
                                 grad_output_row_step)
                        group_x = first // group_filters * group_channels  # the block's first input channel
                        if group_out:
                            _lane_groups_gradient(group_in, group_out, flat_x, x_start + group_x, s_w * channels,
                                                  flat_grad, grad_start + first, q_last - q_first, p_last - p_first,
                                                  flat_kernel, kernel_start + first, steps)
                        else:
                            _gradient_channels(vectors, group_channels, flat_x, x_start + group_x, s_w * channels,
                                               flat_grad, grad_start + first, q_last - q_first, p_last - p_first,
                                               flat_kernel, kernel_start + first, steps)


ACCUMULATORS = 16  # vectors of partial sums a kernel-gradient block keeps in registers (of AVX-512's 32)
FEW_CHANNELS = 8  # up to this many input channels, blocks span several kernel cells (`few_channels_gradient_loop`)
# ... over bands of output rows whose rows of x and dy stay in the L1 cache while every block reads them: a band
# as large as GRADIENT_BAND_BYTES allows was 1.09-1.15x slower on 3-channel stems (their many blocks per row)
FEW_CHANNELS_BAND_BYTES = 16 * 2**10


def cells_per_block(kernel_high, kernel_wide, channels, vectors):
    """(R, J): the kernel rows and columns whose gradients one block sums together for C_in = `channels` <=
    FEW_CHANNELS: a whole kernel row (J = k_w) and as many rows as fit, or part of a row, R J C_in vectors <=
    ACCUMULATORS (each loaded vector of dy then feeds R J C_in multiply-adds)."""
    cells = max(1, min(kernel_wide, ACCUMULATORS // (channels * vectors)))
    rows = max(1, min(kernel_high, ACCUMULATORS // (cells * channels * vectors))) if cells == kernel_wide else 1
    return rows, cells


@functools.cache
def few_channels_gradient_loop(vectors, channels, kernel_high, kernel_wide):
    """The compiled kernel gradient of a chunk with few input channels (C_in = `channels` <= FEW_CHANNELS), for a
    kernel of k_h x k_w cells and output-channel blocks of `vectors` (1 or 2) vectors, all compiled in as
    constants:

        loop(x, grad, strides, dilation, kernel_grad)

    adds to kernel_grad (k_h, k_w, C_in, K) the kernel gradient of x (n, H, W, C_in), already zero-padded, and
    grad = dLoss/dy (n, H_out, W_out, C_out), as `conv_kernel_gradient` with no padding; each block sums
    R x J kernel cells x C_in channels (`cells_per_block`) over a band of whole output rows
    (FEW_CHANNELS_BAND_BYTES), the last blocks of the kernel's rows and columns with what is left of them. All
    arrays contiguous, of one dtype."""
    rows, cells = cells_per_block(kernel_high, kernel_wide, channels, vectors)
    # the kernel's last block of rows and of columns: what is left of them (a whole block where they divide)
    last_rows = kernel_high - (kernel_high - 1) // rows * rows
    last_cells = kernel_wide - (kernel_wide - 1) // cells * cells

    @njit(nogil=True, cache=True, boundscheck=False)
    def loop(x, grad, strides, dilation, kernel_grad):
        images, high, wide, _ = x.shape
        kernel_channels = kernel_grad.shape[3]
        out_high, out_wide, channels_out = grad.shape[1], grad.shape[2], grad.shape[3]
        s_h, s_w = strides
        d_h, d_w = dilation
        flat_x, flat_grad, flat_kernel = x.reshape(-1), grad.reshape(-1), kernel_grad.reshape(-1)
        block_channels = vectors * (REGISTER_BYTES // x.itemsize)
        x_output_row_step, grad_output_row_step = s_h * wide * channels, out_wide * channels_out
        band = _band_rows(FEW_CHANNELS_BAND_BYTES, x_output_row_step + grad_output_row_step, x.itemsize)
        for n in range(images):
            for p in range(0, out_high, band):
                band_rows = min(band, out_high - p)
                grad_row = (n * out_high + p) * out_wide * channels_out
                for first in range(0, channels_out, block_channels):
                    steps = (channels_out, kernel_channels, channels_out - first, d_w * channels, channels *
                             kernel_channels, d_h * wide * channels, kernel_wide * channels * kernel_channels,
                             x_output_row_step, grad_output_row_step)
                    for i in range(0, kernel_high, rows):
                        x_row = (n * high + p * s_h + i * d_h) * wide * channels
                        for j in range(0, kernel_wide, cells):
                            x_start = x_row + j * d_w * channels
                            kernel_start = (i * kernel_wide + j) * channels * kernel_channels + first
                            # the block's size as literals, which `_gradient_block` compiles in
                            if i + rows <= kernel_high and j + cells <= kernel_wide:
                                _gradient_block(rows, cells, channels, vectors, flat_x, x_start, s_w * channels,
                                                flat_grad, grad_row + first, out_wide, band_rows, flat_kernel,
                                                kernel_start, steps)
                            elif i + rows <= kernel_high:
                                _gradient_block(rows, last_cells, channels, vectors, flat_x, x_start,
                                                s_w * channels, flat_grad, grad_row + first, out_wide, band_rows,
                                                flat_kernel, kernel_start, steps)
                            elif j + cells <= kernel_wide:
                                _gradient_block(last_rows, cells, channels, vectors, flat_x, x_start,
                                                s_w * channels, flat_grad, grad_row + first, out_wide, band_rows,
                                                flat_kernel, kernel_start, steps)
                            else:
                                _gradient_block(last_rows, last_cells, channels, vectors, flat_x, x_start,
                                                s_w * channels, flat_grad, grad_row + first, out_wide, band_rows,
                                                flat_kernel, kernel_start, steps)

    return loop
