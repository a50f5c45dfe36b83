"""A character-level LSTM language model on Shakespeare: validation bits per character, and samples.

    python -m striate.examples.shakespeare          # or: striate example shakespeare

The network (Karpathy's char-rnn, small): each character is embedded (32), an LSTM (128 units) reads the
sequence, and a Dense layer applied at every step (TimeDistributed) scores the next character. Training
(Adam, learning rate 0.01; 3 epochs of 500 batches of 64) draws random 100-character windows of the training
works (all but Hamlet, The Tempest and the Sonnets) and minimizes the cross-entropy of every next character.
Validation: bits per character (cross-entropy / ln 2) on windows of the held-out works; a model that knew
only the character frequencies scores 4.71 (`unigram_bits_per_character`).
Sampling carries the LSTM's state from one character to the next (initial_state / return_state).

    python -m striate.examples.shakespeare --cells runs/shakespeare-cells

also saves the trained weights there and draws the cells that best follow a simple feature of the text
(Karpathy et al. 2015; `cell_pictures`, striate.viz.text).
"""

import math
import os
import sys

import numpy as np

import striate
import striate.functional as F
from striate import layers as L
from striate.datasets import shakespeare
from striate.examples import Timer, report, standard_parser


class CharLSTM:
    """Embedding -> LSTM (return_sequences, return_state) -> TimeDistributed(Dense(vocabulary))."""

    def __init__(self, vocabulary_size, embedding_size=32, units=256):
        self.embedding = L.Embedding(vocabulary_size, embedding_size)
        self.lstm = L.LSTM(units, return_sequences=True, return_state=True)
        self.output = L.TimeDistributed(L.Dense(vocabulary_size))

    def __call__(self, tokens, states=None):
        """Logits (N, T, V) of the next character after each position, and the LSTM's final [h, c]."""
        sequence, h, c = self.lstm(self.embedding(tokens), initial_state=states)
        return self.output(sequence), [h, c]

    @property
    def layers(self):
        """The layers in the order they are applied."""
        return [self.embedding, self.lstm, self.output]

    @property
    def weights(self):
        return self.embedding.weights + self.lstm.weights + self.output.weights


def bits_per_character(model, tokens, length=100):
    """Mean cross-entropy in bits of each next character, over consecutive windows of `tokens`."""
    count = (len(tokens) - 1) // length
    windows = tokens[: count * length + 1]
    x = windows[:-1].reshape(count, length)
    y = windows[1:].reshape(count, length)
    total = 0.0
    with striate.no_grad():
        for start in range(0, count, 128):
            logits, _ = model(x[start : start + 128])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y[start : start + 128].reshape(-1),
                                   from_logits=True)
            total += loss.item() * len(x[start : start + 128])
    return total / count / math.log(2)


def sample(model, characters, prime="ROMEO.\n", length=300, temperature=0.8, seed=0):
    """Text generated one character at a time, after feeding `prime`."""
    rng = np.random.default_rng(seed)
    with striate.no_grad():
        logits, states = model(characters.encode(prime)[None])
        generated = []
        for _ in range(length):
            scores = logits.numpy()[0, -1].astype(np.float64) / temperature
            probabilities = np.exp(scores - scores.max())
            token = rng.choice(len(probabilities), p=probabilities / probabilities.sum())
            generated.append(token)
            logits, states = model(np.array([[token]]), states)
    return prime + characters.decode(generated)


def load_texts(quick=False):
    """(train_text, validation_text); with quick, the first 200,000 and 20,000 characters."""
    train_text, validation_text = shakespeare.load_data()
    if quick:
        return train_text[:200_000], validation_text[:20_000]
    return train_text, validation_text


def run(epochs=3, seed=0, quick=False, verbose=1, steps_per_epoch=500, batch_size=64, length=100, units=128,
        weights_path=None):
    """Train for epochs * steps_per_epoch batches; returns validation bits per character and a sample.

    weights_path: where to save the trained weights (a safetensors file; `load_trained` reads it back).
    """
    train_text, validation_text = load_texts(quick)
    if quick:
        steps_per_epoch, units, length = 120, 64, 50
    characters = shakespeare.Characters(train_text)
    train, validation = characters.encode(train_text), characters.encode(validation_text)
    striate.set_random_seed(seed)
    model = CharLSTM(len(characters), units=units)
    model(train[None, :1])  # builds the layers, so that model.weights is complete
    optimizer = striate.optim.Adam(0.01)
    rng = np.random.default_rng(seed)
    results = {"train_characters": len(train), "validation_characters": len(validation),
               "vocabulary": len(characters)}
    frequencies = np.bincount(train, minlength=len(characters)) / len(train)
    with np.errstate(divide="ignore"):
        unigram = -np.sum(np.bincount(validation, minlength=len(characters)) / len(validation)
                          * np.log2(np.maximum(frequencies, 1e-12)))
    results["unigram_bits_per_character"] = float(unigram)
    with Timer() as timer:
        for epoch in range(epochs):
            losses = []
            for _ in range(steps_per_epoch):
                starts = rng.integers(0, len(train) - length - 1, size=batch_size)
                windows = train[starts[:, None] + np.arange(length + 1)]
                for weight in model.weights:
                    weight.grad = None
                logits, _ = model(windows[:, :-1])
                loss = F.cross_entropy(logits.reshape(-1, len(characters)), windows[:, 1:].reshape(-1),
                                       from_logits=True)
                loss.backward()
                optimizer.apply_gradients(model.weights)
                losses.append(loss.item())
            if verbose:
                print(f"epoch {epoch + 1}/{epochs}: training bits per character "
                      f"{np.mean(losses[-50:]) / math.log(2):.3f}", flush=True)
    results["validation_bits_per_character"] = bits_per_character(model, validation, length)
    results["seconds"] = round(timer.seconds, 1)
    results["sample"] = "\n" + sample(model, characters, seed=seed)
    if weights_path is not None:
        striate.models.saving.save_weights(model, weights_path)
    return results


def load_trained(weights_path, units=128, quick=False):
    """(model, characters) of a run saved with `run(..., weights_path=...)` (quick and units as in that run;
    quick runs have 64 units)."""
    characters = shakespeare.Characters(load_texts(quick)[0])
    model = CharLSTM(len(characters), units=units)
    model(np.zeros((1, 1), np.int64))  # builds the layers
    striate.models.saving.load_weights(model, weights_path)
    return model, characters


def cell_pictures(weights_path, folder, units=128, quick=False):
    """Find the LSTM cells that best follow simple features of the validation text (inside brackets, position
    in the line, uppercase; `striate.viz.text.most_correlated_cells`) and draw each over a passage of Hamlet
    (Act I, the end of scene II and the start of scene III; a quick run's text ends before) as
    `folder/cell_<feature>.png` and `.html`. Returns {feature: (cell, Pearson r)}."""
    from striate.viz.text import most_correlated_cells, plot_cell_activations

    model, characters = load_trained(weights_path, units, quick)
    validation_text = load_texts(quick)[1]
    cells = most_correlated_cells(model, validation_text, characters=characters)
    text = validation_text[18_500:20_000] if quick else validation_text[19_700:21_200]
    for feature, (cell, _) in cells.items():
        for extension in ("png", "html"):
            plot_cell_activations(model, text, cell=cell, characters=characters,
                                  path=os.path.join(folder, f"cell_{feature}.{extension}"))
    return cells


def main(argv=None):
    parser = standard_parser("shakespeare", epochs=3)
    parser.add_argument("--cells", metavar="FOLDER", help="save the weights in FOLDER and draw the cells that "
                        "best follow a feature of the text there (cell_<feature>.png / .html)")
    arguments = parser.parse_args(argv)
    weights_path = None
    if arguments.cells:
        os.makedirs(arguments.cells, exist_ok=True)
        weights_path = os.path.join(arguments.cells, "char_lstm.safetensors")
    results = run(arguments.epochs, arguments.seed, arguments.quick, weights_path=weights_path)
    if arguments.cells:
        units = 64 if arguments.quick else 128
        with Timer() as timer:
            for feature, (cell, r) in cell_pictures(weights_path, arguments.cells, units, arguments.quick).items():
                results[f"cell_{feature}"] = f"cell {cell}, r = {r:+.3f}"
        results["cell_pictures_seconds"] = round(timer.seconds, 1)
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
