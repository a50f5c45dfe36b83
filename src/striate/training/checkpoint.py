"""RunCheckpoint: the checkpoint of a training run, saved every N steps and after every epoch, and resumed
mid-epoch bit for bit.

What a run needs to go on exactly where it stopped is the model file (weights, optimizer state, epochs
finished, striate's generator state; `striate.models.saving`), the position inside the epoch and the convolution
algorithms it measured:
    "step"                batches of the current epoch already trained (0 after a whole epoch)
    "epoch_random_state"  striate's generator as the epoch began, before it drew the epoch's order
    "algorithm_choices"   the algorithms `algorithm="auto"` measured fastest so far (`algorithms.measured`), as
                          [pass, [input shape, kernel shape, strides, dilation, groups], name]: a new process could
                          measure another candidate fastest, whose values differ in the last bits
all kept in the same file (`extra_metadata`), written atomically, so a kill at any moment leaves either the
previous checkpoint or the new one, and loses at most N steps.

Resuming (`RunCheckpoint.resume(path)`, then `fit(..., initial_epoch, initial_step)`): when the epoch begins,
the generator is put back to the epoch's starting state, so the epoch draws the same order; fit skips the
batches already trained; before the first batch it trains, the generator is put at the saved state, so the
augmentation and dropout masks are the ones the uninterrupted run drew.

A model whose weights hold NaN or infinity is not saved: the file keeps the last good checkpoint, and
`saved` says which position that is. Nor is an epoch cut short (a callback set model.stop_training within
it) saved as a whole one.
"""

import json

from striate.algorithms import ALGORITHMS, PASSES, Case, measured
from striate.core import random as striate_random
from striate.core.errors import FileFormatError
from striate.models.saving import load_metadata, load_model, save_model
from striate.training.callbacks import Callback
from striate.training.finite import non_finite_weights


class RunCheckpoint(Callback):
    """Save the model to `path` after every `every` batches (None: only after each epoch) and every epoch.

    path: the file (None: save nothing, see restoring_only).
    resume_from: None, or (epochs finished, steps, epoch's starting random state, random state after the
        steps), as `resume` reads it from a checkpoint, to restore while fit replays that epoch.
    Attributes: saved, (epochs finished, steps into the next epoch) of the file's checkpoint, or None;
    refused, the same position of the first checkpoint not saved because a weight was NaN or infinite, or None.
    """

    def __init__(self, path, every=None, resume_from=None):
        if every is not None and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(f"RunCheckpoint: every must be a positive number of batches or None; received {every!r}")
        super().__init__()
        self.path, self.every, self.resume_from = path, every, resume_from
        self.saved, self.refused, self.epoch_state, self.last_batch = None, None, None, None

    @classmethod
    def resume(cls, path, every=None):
        """(model, epochs finished, steps into the next epoch, callback) from the checkpoint at `path`."""
        model = load_model(path)
        metadata = load_metadata(path)
        step_text = metadata.get("step", "0")
        if not (step_text.isascii() and step_text.isdigit() and len(step_text) <= 18):
            raise FileFormatError(path, f"the metadata 'step' must be a whole number >= 0; received {step_text[:80]!r}")
        step, position = int(step_text), None
        if step:
            try:
                epoch_state = json.loads(metadata["epoch_random_state"])
                type(striate_random.generator().bit_generator)().state = epoch_state  # valid, on a spare generator
            except (KeyError, ValueError, TypeError) as error:
                raise FileFormatError(path, f"a checkpoint {step} steps into an epoch needs the metadata "
                                      f"'epoch_random_state', a state of striate's generator ({error})") from None
            position = (model.epochs_trained, step, epoch_state, striate_random.get_state())
        if "algorithm_choices" in metadata:
            measured.record(_choices_from_json(path, metadata["algorithm_choices"]))
        callback = cls(path, every, resume_from=position)
        callback.saved = (model.epochs_trained, step)
        return model, model.epochs_trained, step, callback

    def restoring_only(self):
        """A RunCheckpoint that restores this one's resumed position and saves nothing: for the processes of
        an MPI job that do not write, which must draw the same order and masks."""
        return RunCheckpoint(None, resume_from=self.resume_from)

    def on_epoch_begin(self, epoch, logs=None):
        if self.resume_from is not None and epoch == self.resume_from[0]:
            striate_random.set_state(self.resume_from[2])
        self.epoch_state = striate_random.get_state()

    def on_train_batch_begin(self, batch, logs=None):
        if self.resume_from is not None and batch == self.resume_from[1]:
            striate_random.set_state(self.resume_from[3])
            self.resume_from = None

    def on_train_batch_end(self, batch, logs=None):
        self.last_batch = batch
        last = batch + 1 == self.params.get("steps")  # saved by on_epoch_end, as a whole epoch
        if self.every is not None and (batch + 1) % self.every == 0 and not last:
            self._save(self.model.epochs_trained, batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params.get("steps")
        if steps is None or self.last_batch == steps - 1:  # not an epoch cut short by stop_training
            self._save(epoch + 1, 0)

    def _save(self, epochs, step):
        """Save the position `epochs` finished + `step` batches, unless a weight is NaN or infinite."""
        if self.path is None or self.refused is not None:
            return
        if non_finite_weights(self.model):
            self.refused = (epochs, step)
            return
        extra = {"step": str(step), "algorithm_choices": _choices_as_json(measured.measured_choices())}
        if step:
            extra["epoch_random_state"] = json.dumps(self.epoch_state)
        save_model(self.model, self.path, epoch=epochs, extra_metadata=extra)
        self.saved = (epochs, step)


def _choices_as_json(choices):
    """{(pass, Case): name} as JSON text: [[pass, [input shape, kernel shape, strides, dilation, groups], name]]."""
    return json.dumps([[which, [list(case.input_shape), list(case.kernel_shape), list(case.strides),
                                list(case.dilation), case.groups], name] for (which, case), name in choices.items()])


def _choices_from_json(path, text):
    """The {(pass, Case): name} of `_choices_as_json`'s text, each entry checked: FileFormatError naming `path`."""
    try:
        entries = json.loads(text)
        choices = {}
        for which, (input_shape, kernel_shape, strides, dilation, groups), name in entries:
            if which not in PASSES or name not in ALGORITHMS or type(groups) is not int:
                raise ValueError(f"an entry {[which, name, groups]!r}")
            shapes = [tuple(int(n) for n in values) for values in (input_shape, kernel_shape, strides, dilation)]
            choices[(which, Case(*shapes, groups))] = name
    except (ValueError, TypeError) as error:
        raise FileFormatError(path, f"the metadata 'algorithm_choices' must be [[pass, [input shape, kernel shape, "
                              f"strides, dilation, groups], algorithm name], ...] ({error})") from None
    return choices
