"""Keras 3's training protocol, with Keras itself as the oracle: return types of evaluate / train_on_batch /
test_on_batch, the callback calls and their logs, fit's options, and the model API around them."""

import io
from contextlib import redirect_stdout

import numpy as np
import pytest

import striate
from keras_oracle import IGNORE_KERAS_WARNINGS, keras, to_numpy
from striate import layers as L

pytestmark = IGNORE_KERAS_WARNINGS
RATE = 0.1


def data(count=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((count, 3)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)


def twins(metrics=("accuracy",), loss="sparse_categorical_crossentropy"):
    """A striate model and the same Keras model with the same weights, both compiled with SGD(0.1)."""
    striate.set_random_seed(0)
    ours = striate.Sequential([L.Dense(4, activation="tanh", input_shape=(3,)), L.Dense(3, activation="softmax")])
    theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                               keras.layers.Dense(3, activation="softmax")])
    theirs.set_weights(ours.get_weights())
    ours.compile(striate.optim.SGD(RATE), loss, list(metrics))
    theirs.compile(keras.optimizers.SGD(RATE), loss, metrics=list(metrics))
    return ours, theirs


def assert_same_weights(ours, theirs, tolerance=1e-5):
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, keras_weight, atol=tolerance)


# ---- return types ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("metrics", [(), ("accuracy",)])
def test_evaluate_and_the_batch_methods_return_what_keras_returns(metrics):
    x, y = data()
    ours, theirs = twins(metrics)
    for method, arguments in [("evaluate", dict(verbose=0)), ("test_on_batch", {}), ("train_on_batch", {})]:
        mine, expected = getattr(ours, method)(x, y, **arguments), getattr(theirs, method)(x, y, **arguments)
        assert isinstance(mine, float) == (not metrics) == np.isscalar(expected)
        np.testing.assert_allclose(mine, expected, rtol=1e-5)
    assert_same_weights(ours, theirs)  # train_on_batch made the same step
    mine = ours.evaluate(x, y, verbose=0, return_dict=True)
    expected = theirs.evaluate(x, y, verbose=0, return_dict=True)
    assert list(mine) == list(expected)
    np.testing.assert_allclose(list(mine.values()), list(expected.values()), rtol=1e-5)
    np.testing.assert_allclose(ours.predict_on_batch(x), to_numpy(theirs.predict_on_batch(x)), atol=1e-6)


def test_labels_shaped_n_by_1_give_the_same_loss_and_accuracy_as_keras():
    x, y = data()
    ours, theirs = twins()
    expected = theirs.evaluate(x, y[:, None], verbose=0)
    np.testing.assert_allclose(ours.evaluate(x, y[:, None], verbose=0), expected, rtol=1e-5)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), expected, rtol=1e-5)


# ---- the callback protocol ------------------------------------------------------------------------------------
def recorder(base):
    class Recorder(base):
        def __init__(self):
            super().__init__()
            self.calls = []

    def hook(name):
        if "epoch" in name or "batch" in name:
            def record_step(self, index, logs=None):
                self.calls.append((name, index, tuple(sorted(logs or {}))))
            return record_step

        def record(self, logs=None):
            self.calls.append((name, tuple(sorted(logs or {}))))
        return record

    for name in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
                 "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
                 "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end"):
        setattr(Recorder, name, hook(name))
    return Recorder()


def test_fit_evaluate_and_predict_call_every_hook_in_keras_order_with_keras_logs():
    x, y = data(10)
    ours, theirs = twins()
    mine, expected = recorder(striate.callbacks.Callback), recorder(keras.callbacks.Callback)
    options = dict(batch_size=4, epochs=2, validation_data=(x[:6], y[:6]), shuffle=False, verbose=0)
    history = ours.fit(x, y, callbacks=[mine], **options)
    keras_history = theirs.fit(x, y, callbacks=[expected], **options)
    ours.evaluate(x, y, batch_size=5, verbose=0, callbacks=[mine])
    theirs.evaluate(x, y, batch_size=5, verbose=0, callbacks=[expected])
    ours.predict(x, batch_size=5, verbose=0, callbacks=[mine])
    theirs.predict(x, batch_size=5, verbose=0, callbacks=[expected])
    assert mine.calls == expected.calls
    assert list(history.history) == list(keras_history.history)
    for key, values in keras_history.history.items():
        np.testing.assert_allclose(history.history[key], values, rtol=1e-5)
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 3} == keras_history.params
    assert_same_weights(ours, theirs)


def test_stop_training_set_in_a_batch_ends_the_epoch_and_the_run_as_keras():
    x, y = data(12)
    stops = []
    for model, callbacks in zip(twins(), (striate.callbacks, keras.callbacks)):
        def stop(batch, logs, model=model):
            if batch == 1:
                model.stop_training = True

        history = model.fit(x, y, batch_size=4, epochs=3, verbose=0, shuffle=False,
                            callbacks=[callbacks.LambdaCallback(on_train_batch_end=stop)])
        stops.append((history.epoch, model.optimizer.iterations if hasattr(model.optimizer, "iterations") else 0))
    assert stops[0][0] == stops[1][0] == [0]
    assert int(stops[0][1]) == int(stops[1][1]) == 2


# ---- fit's options --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("weighting", ["class_weight", "sample_weight"])
def test_class_and_sample_weights_weight_the_loss_as_keras(weighting):
    x, y = data(12)
    ours, theirs = twins()
    option = {"class_weight": {0: 0.5, 1: 2.0, 2: 3.0}} if weighting == "class_weight" else {
        "sample_weight": np.linspace(0.1, 2, 12).astype(np.float32)}
    history = ours.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0, **option)
    expected = theirs.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0, **option)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-5)
    assert_same_weights(ours, theirs)


def test_validation_freq_batch_size_and_steps_per_epoch_on_a_generator_as_keras():
    x, y = data(16)

    def batches():
        while True:
            for start in range(0, 16, 4):
                yield x[start:start + 4], y[start:start + 4]

    ours, theirs = twins()
    options = dict(epochs=4, steps_per_epoch=3, validation_data=(x[:8], y[:8]), validation_freq=2,
                   validation_batch_size=3, verbose=0)
    history = ours.fit(batches(), **options)
    expected = theirs.fit(batches(), **options)
    assert {k: len(v) for k, v in history.history.items()} == {k: len(v) for k, v in expected.history.items()}
    for key, values in expected.history.items():
        np.testing.assert_allclose(history.history[key], values, rtol=1e-5)
    assert_same_weights(ours, theirs)


def test_a_py_dataset_trains_as_its_arrays_do():
    x, y = data(10)

    class Batches(striate.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epochs_ended = 0

        def __len__(self):
            return 3

        def __getitem__(self, index):
            return x[index * 4:(index + 1) * 4], y[index * 4:(index + 1) * 4]

        def on_epoch_end(self):
            self.epochs_ended += 1

    dataset = Batches()
    ours, theirs = twins()
    history = ours.fit(dataset, epochs=2, verbose=0)
    expected = theirs.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-5)
    assert dataset.epochs_ended == 2 and history.params["steps"] == 3


def test_verbose_0_is_silent_and_2_prints_one_line_per_epoch(capsys):
    x, y = data()
    ours, _ = twins()
    ours.fit(x, y, epochs=2, verbose=0)
    ours.evaluate(x, y, verbose=0)
    ours.predict(x, verbose=0)
    assert capsys.readouterr() == ("", "")
    ours.fit(x, y, epochs=2, verbose=2)
    printed = capsys.readouterr()
    assert printed.out.count("Epoch ") == 2 and "loss: " in printed.out and printed.err == ""


# ---- the model API around training ----------------------------------------------------------------------------
def test_a_subclassed_model_whose_call_takes_no_training_argument_trains():
    class Scaled(striate.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.scale

    class Net(striate.Model):
        def __init__(self):
            super().__init__()
            self.scaled, self.dense = Scaled(), L.Dense(3, activation="softmax")

        def call(self, inputs):
            return self.dense(self.scaled(inputs))

    x, y = data()
    model = Net()
    model.compile(striate.optim.SGD(RATE), "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.scaled.weights[0].name.endswith("/variable") and not np.allclose(model.scaled.weights[0].data, 1)


def test_layers_get_layer_inputs_and_outputs_as_keras_without_the_input_layer():
    inputs = striate.Input((6,), name="pixels")
    hidden = L.Dense(4, activation="relu", name="hidden")(inputs)
    model = striate.Model(inputs, L.Dense(2, name="scores")(hidden))
    k_inputs = keras.Input((6,))
    k_hidden = keras.layers.Dense(4, activation="relu", name="hidden")(k_inputs)
    theirs = keras.Model(k_inputs, keras.layers.Dense(2, name="scores")(k_hidden))
    assert [layer.name for layer in model.layers] == [layer.name for layer in theirs.layers[1:]]
    assert model.get_layer("scores") is model.layers[1] and model.get_layer(index=0).name == "hidden"
    assert [i.shape for i in model.inputs] == [tuple(i.shape) for i in theirs.inputs]
    assert [o.shape for o in model.outputs] == [tuple(o.shape) for o in theirs.outputs]
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        model.get_layer("nope")


def test_get_config_and_to_json_rebuild_the_model():
    model, _ = twins()
    x, _ = data()
    for rebuilt in (striate.Sequential.from_config(model.get_config()),
                    striate.models.model_from_json(model.to_json())):
        rebuilt.set_weights(model.get_weights())
        np.testing.assert_array_equal(rebuilt.predict(x, verbose=0), model.predict(x, verbose=0))


def test_each_layer_s_config_rebuilds_it():
    model = striate.models.mnist_cnn()
    for layer in model.layers:
        rebuilt = type(layer).from_config(layer.get_config())
        assert type(rebuilt) is type(layer) and rebuilt.get_config() == layer.get_config()


def test_input_with_variable_image_size_and_a_dtype():
    inputs = striate.Input(shape=(None, None, 3))
    outputs = L.GlobalAveragePooling2D()(L.Conv2D(2, 3, padding="same")(inputs))
    model = striate.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    assert model.predict(rng.random((1, 8, 8, 3)), verbose=0).shape == (1, 2)
    assert model.predict(rng.random((1, 12, 5, 3)), verbose=0).shape == (1, 2)
    assert striate.Input((7,), dtype="int32").dtype == "int32"


def test_train_on_batch_logs_come_before_the_update():
    x, y = data()
    ours, _ = twins(metrics=())
    before = ours.evaluate(x, y, verbose=0)
    assert ours.train_on_batch(x, y) == pytest.approx(before, rel=1e-6)
    assert ours.evaluate(x, y, verbose=0) < before
    printed = io.StringIO()
    with redirect_stdout(printed):
        ours.evaluate(x, y, verbose=0)
    assert printed.getvalue() == ""


def test_a_sequential_model_s_input_layer_is_not_one_of_its_layers_as_in_keras():
    ours = striate.Sequential([L.InputLayer((4,)), L.Dense(2), L.Dense(1)])
    theirs = keras.Sequential([keras.layers.InputLayer((4,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    assert [type(layer).__name__ for layer in ours.layers] == [type(layer).__name__ for layer in theirs.layers]
    assert ours.input_shape == (None, 4) and ours.count_params() == theirs.count_params() == 13
