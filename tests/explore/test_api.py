"""The explorer's JSON API, through Starlette's test client: every endpoint against striate computed directly,
bad inputs answered with a clear 4xx, and 50 concurrent requests answered as sequential ones."""

import asyncio
import base64
import io
import json
import struct
import zlib

import httpx2 as httpx
import numpy as np
import pytest
from PIL import Image

import striate
from striate.inspect import layer_outputs, occlusion, saliency, saliency_map
from striate.viz.network import filter_images


@pytest.fixture(scope="module")
def digit(mnist_test_images):
    """MNIST test image 0 (a 7) as (28, 28, 1) float32 in [0, 1]."""
    return mnist_test_images[0][0]


def pixels(image):
    return image.tolist()


def decode(encoded):
    return np.frombuffer(base64.b64decode(encoded["data"]), "<f4").reshape(encoded["shape"])


def png_bytes(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


# ---- the page ------------------------------------------------------------------------------------------------
def test_page_and_its_static_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Draw a digit" in page.text and "/static/explorer.js" in page.text and "/static/explorer.css" in page.text
    assert "http" not in page.text.replace("http-equiv", "")       # nothing from a CDN: the page works offline
    script = client.get("/static/explorer.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "/api/predict" in script.text and "http" not in script.text
    assert client.get("/static/explorer.css").status_code == 200


# ---- the model -----------------------------------------------------------------------------------------------
def test_model_lists_every_layer_with_its_plan(client, model):
    answer = client.get("/api/model").json()
    rows = {row.name: row for row in striate.plan(model).rows}
    assert answer["name"] == "tiny_cnn" and answer["input_shape"] == [28, 28, 1]
    assert answer["classes"] == [str(c) for c in range(10)] and answer["white_on_black"] is True
    assert [layer["name"] for layer in answer["layers"]] == ["conv1", "pool1", "conv2", "flatten", "predictions"]
    for layer in answer["layers"]:
        row = rows[layer["name"]]
        assert layer["output_shape"] == list(row.output_shape[1:])
        assert (layer["params"], layer["macs"]) == (row.params, row.macs)
    conv1 = answer["layers"][0]
    assert conv1["params"] == 3 * 3 * 1 * 4 + 4 and conv1["macs"] == 28 * 28 * 4 * 9      # written out by hand
    assert conv1["filters"] is True and conv1["arithmetic"] == "convolution" and conv1["padding"] == "same"
    assert answer["layers"][3]["pass_through"] and answer["layers"][4]["arithmetic"] is None
    assert answer["samples"][:2] == ["mnist-0", "mnist-1"]


# ---- per input -----------------------------------------------------------------------------------------------
def test_predict_equals_model_predict(client, model, mnist_test_images):
    for image in mnist_test_images[0][:3]:
        answer = client.post("/api/predict", json={"pixels": pixels(image)}).json()
        expected = model.predict(image[None])[0]
        np.testing.assert_array_equal(np.float32(answer["probabilities"]), expected)
        assert answer["predicted"] == int(np.argmax(expected))


def test_predict_takes_rows_of_numbers_for_a_one_channel_model(client, model, digit):
    flat = client.post("/api/predict", json={"pixels": digit[..., 0].tolist()}).json()
    assert flat == client.post("/api/predict", json={"pixels": pixels(digit)}).json()


def test_maps_are_every_layer_output(client, model, digit):
    answer = client.post("/api/maps", json={"pixels": pixels(digit)}).json()
    expected = layer_outputs(model, digit[None])
    assert [entry["name"] for entry in answer["layers"]] == list(expected)
    for entry in answer["layers"]:
        value = expected[entry["name"]][0]
        assert entry["shape"] == list(value.shape) and entry["min"] == pytest.approx(value.min())
        if entry["name"] == "flatten":
            assert entry["data"] is None            # the same values as pool1's: not sent twice
        else:
            np.testing.assert_array_equal(decode(entry["data"]), value)
    chosen = client.post("/api/maps", json={"pixels": pixels(digit), "layers": ["conv2"]}).json()
    assert [entry["name"] for entry in chosen["layers"]] == ["conv2"]


def test_cell_arithmetic_sums_to_the_value_in_the_map(client, model, digit):
    value = layer_outputs(model, digit[None], "conv2")["conv2"][0, 1, 2, 5]
    answer = client.post("/api/cell", json={"pixels": pixels(digit), "layer": "conv2", "position": [1, 2],
                                            "channel": 5}).json()
    arithmetic = answer["arithmetic"]
    assert answer["input"] == ["pool1"]
    products = np.array(arithmetic["products"])
    assert products.shape == (3, 3, 4)                    # a 3x3 window over pool1's 4 channels
    np.testing.assert_allclose(np.array(arithmetic["window"]) * np.array(arithmetic["kernel"]), products)
    z = products.sum() + arithmetic["bias"]
    assert max(z, 0.0) == pytest.approx(value, rel=1e-5, abs=1e-6)     # relu(sum + bias), written out here
    assert answer["output"] == pytest.approx(value) and arithmetic["value"] == pytest.approx(value, abs=1e-6)
    # conv1 same 3x3 (field 3, jump 1, start 0), pool 2x2 (4, 2, 0.5), conv2 3x3 stride 2 with padding (0, 1)
    # before: field 4 + 2 * 2 = 8, jump 4, start 0.5 + 1 * 2 = 2.5; cell (1, 2) is centred on (6.5, 10.5)
    assert answer["region"] == [3, 7, 10, 14]


def test_cell_of_the_first_layer_reads_the_padded_input(client, model, digit):
    answer = client.post("/api/cell", json={"pixels": pixels(digit), "layer": "conv1", "position": [0, 27],
                                            "channel": 2}).json()
    arithmetic = answer["arithmetic"]
    assert answer["input"] == ["input"] and arithmetic["origin"] == [-1, 26] and answer["region"] == [-1, 26, 1, 28]
    assert np.array(arithmetic["inside"]).tolist() == [[False] * 3, [True, True, False], [True, True, False]]
    np.testing.assert_array_equal(np.array(arithmetic["window"])[1:, :2, 0], digit[:2, 26:, 0])
    expected = layer_outputs(model, digit[None], "conv1")["conv1"][0, 0, 27, 2]
    assert arithmetic["value"] == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_cell_of_pooling_and_dense_layers(client, model, digit):
    pool = client.post("/api/cell", json={"pixels": pixels(digit), "layer": "pool1", "position": [5, 6],
                                          "channel": 1}).json()
    conv1 = layer_outputs(model, digit[None], "conv1")["conv1"][0]
    assert pool["arithmetic"]["kind"] == "max pooling"
    assert pool["arithmetic"]["value"] == pytest.approx(conv1[10:12, 12:14, 1].max())
    dense = client.post("/api/cell", json={"pixels": pixels(digit), "layer": "predictions", "position": [3]}).json()
    assert dense["arithmetic"] is None and "392 inputs" in dense["note"]       # 7 * 7 * 8 flattened values
    assert (dense["position"], dense["channel"]) == ([3], None)
    assert dense["output"] == pytest.approx(model.predict(digit[None])[0, 3]) and dense["region"] == [0, 0, 27, 27]


@pytest.mark.parametrize("method", ["saliency", "guided", "occlusion"])
def test_attribution_equals_striate_inspect(client, model, digit, method):
    answer = client.post("/api/attribution", json={"pixels": pixels(digit), "method": method, "class": 7}).json()
    if method == "occlusion":
        expected = occlusion(model, digit, 7, patch=4, stride=2)     # the defaults: 28 // 7 and 4 // 2
    elif method == "saliency":
        expected = saliency_map(saliency(model, digit, 7))
    else:
        from striate.inspect import guided_backprop

        expected = saliency_map(guided_backprop(model, digit, 7))
    np.testing.assert_allclose(answer["map"], expected, rtol=1e-6, atol=1e-9)
    scaled = np.array(answer["scaled"])
    assert answer["class"] == 7 and scaled.min() == 0 and scaled.max() == 1


def test_attribution_defaults_to_the_predicted_class(client, model, digit):
    answer = client.post("/api/attribution", json={"pixels": pixels(digit)}).json()
    assert answer["method"] == "saliency" and answer["class"] == int(np.argmax(model.predict(digit[None])))


# ---- inputs and weights --------------------------------------------------------------------------------------
def test_filters_are_the_kernels_scaled(client, model):
    answer = client.get("/api/filters?layer=conv2&input_channel=3").json()
    expected = filter_images(model.layers[2], 3)
    assert answer["kernel_shape"] == [3, 3, 4, 8] and len(answer["images"]) == 8
    np.testing.assert_allclose(answer["images"], np.array(expected))
    kernel = model.layers[2].kernel.numpy()
    first = (kernel[:, :, 3, 0] - kernel[:, :, 3, 0].min()) / np.ptp(kernel[:, :, 3, 0])   # min-max, by hand
    np.testing.assert_allclose(answer["images"][0], first, rtol=1e-5)


def test_samples_are_mnist_test_digits(client, mnist_test_images):
    answer = client.get("/api/sample?name=mnist-3").json()
    np.testing.assert_array_equal(np.float32(answer["pixels"]), mnist_test_images[0][3])
    assert answer["label"] == int(mnist_test_images[1][3]) and "MNIST test image 3" in answer["notes"][0]


def test_an_upload_is_inverted_and_resized_and_says_so(client, mnist_test_images):
    digit = (mnist_test_images[0][0][..., 0] * 255).astype(np.uint8)
    dark_on_light = np.kron(255 - digit, np.ones((2, 2), np.uint8))         # 56x56, black ink on white paper
    answer = client.post("/api/image", content=png_bytes(dark_on_light)).json()
    notes = " ".join(answer["notes"])
    assert "inverted" in notes and "resized from 56x56 to 28x28" in notes
    # a box filter over each 2x2 block of equal pixels gives the block's value back: the digit, white on black
    np.testing.assert_allclose(np.array(answer["pixels"])[..., 0], digit / 255, atol=1e-6)


def test_a_colour_upload_is_converted_to_grey(client):
    red = np.zeros((28, 28, 3), np.uint8)
    red[..., 0] = 200
    answer = client.post("/api/image", content=png_bytes(red)).json()
    assert "grayscale" in " ".join(answer["notes"])
    np.testing.assert_allclose(np.array(answer["pixels"]), round(0.299 * 200) / 255, atol=1 / 255)


# ---- the arithmetic tab --------------------------------------------------------------------------------------
@pytest.mark.parametrize("query, size, formula", [
    ("input=5&kernel=3&stride=2&padding=1", [3, 3], "o = floor((5 + 2 - 3) / 2) + 1 = 3"),
    ("input=7&kernel=3&dilation=2&padding=valid", [3, 3], "o = floor((7 + 0 - 5) / 1) + 1 = 3"),
    ("input=5&kernel=4&stride=2&padding=same", [3, 3], "o = floor((5 + 3 - 4) / 2) + 1 = 3"),
    ("input=3&kernel=3&stride=2&transposed=true", [7, 7], "o = (3 - 1)*2 + 3 - 0 = 7"),
    ("input=6x4&kernel=3", [4, 2],
     "rows: o = floor((6 + 0 - 3) / 1) + 1 = 4;  columns: o = floor((4 + 0 - 3) / 1) + 1 = 2"),
])
def test_arithmetic_gives_the_output_size_and_formula(client, query, size, formula):
    answer = client.get(f"/api/arithmetic?{query}").json()
    assert answer["output_size"] == size and answer["formula"] == formula
    assert len(answer["steps"]) == size[0] * size[1] and answer["pictures"] == size[0] * size[1] + 2


def test_arithmetic_steps_follow_the_stride(client):
    answer = client.get("/api/arithmetic?input=5&kernel=3&stride=2&padding=1").json()
    step = answer["steps"][4]                                  # output (1, 1): the kernel at padded (2..4, 2..4)
    assert step["output_index"] == [1, 1] and step["footprint"][0] == [2, 2] and step["footprint"][-1] == [4, 4]
    assert answer["grid_shape"] == [7, 7] and answer["grid_padding"] == [[1, 1], [1, 1]]


def test_arithmetic_picture_is_a_png(client):
    response = client.get("/api/arithmetic.png?input=5&kernel=3&stride=2&padding=1&step=3")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    picture = Image.open(io.BytesIO(response.content))
    assert picture.format == "PNG" and picture.width > 300 and picture.height > 200


# ---- bad input: a clear 4xx, and the server goes on ----------------------------------------------------------
BAD_REQUESTS = [
    ("post", "/api/predict", {"content": b"{not json"}, 400, "not valid JSON"),
    ("post", "/api/predict", {"json": [1, 2]}, 400, "must be a JSON object"),
    ("post", "/api/predict", {"json": {"image": []}}, 400, "needs the field 'pixels'"),
    ("post", "/api/predict", {"json": {"pixels": np.zeros((27, 28)).tolist()}}, 400,
     "the model takes 28x28 pixels (rows x columns); received 27x28"),
    ("post", "/api/predict", {"json": {"pixels": [[0, 1], [2]]}}, 400, "ragged"),
    ("post", "/api/predict", {"json": {"pixels": np.full((28, 28), 255).tolist()}}, 400, "must lie in [0, 1]"),
    ("post", "/api/predict", {"json": {"pixels": [["a"] * 28] * 28}}, 400, "other than numbers"),
    ("post", "/api/maps", {"json": {"pixels": np.zeros((28, 28)).tolist(), "layers": ["conv9"]}}, 404,
     "no layer 'conv9'; its layers are conv1, pool1, conv2, flatten, predictions"),
    ("post", "/api/maps", {"json": {"pixels": np.zeros((28, 28)).tolist(), "layers": 5}}, 400,
     "layers must be a layer name or a list of them; received 5"),
    ("post", "/api/cell", {"json": {"pixels": np.zeros((28, 28)).tolist(), "layer": "nope", "position": [0, 0]}},
     404, "no layer 'nope'"),
    ("post", "/api/cell", {"json": {"pixels": np.zeros((28, 28)).tolist(), "layer": "conv1", "position": [28, 0]}},
     400, "layer 'conv1' outputs shape (28, 28, 4)"),
    ("post", "/api/cell", {"json": {"pixels": np.zeros((28, 28)).tolist(), "layer": "conv1", "position": "0"}},
     400, "give position [row, column]"),
    ("post", "/api/attribution", {"json": {"pixels": np.zeros((28, 28)).tolist(), "method": "magic"}}, 400,
     "method must be one of saliency, guided, occlusion"),
    ("post", "/api/attribution", {"json": {"pixels": np.zeros((28, 28)).tolist(), "class": 10}}, 400,
     "class must be an int from 0 to 9"),
    ("get", "/api/filters?layer=pool1", {}, 400, "has no filters; layers with filters: conv1, conv2"),
    ("get", "/api/filters?layer=conv9", {}, 404, "no layer 'conv9'"),
    ("get", "/api/filters?layer=conv2&input_channel=4", {}, 400, "has 4 input channels"),
    ("get", "/api/filters?layer=conv2&input_channel=x", {}, 400, "input_channel must be an int"),
    ("get", "/api/sample?name=mnist-10000", {}, 404, "mnist-0 ... mnist-9999"),
    ("get", "/api/sample", {}, 400, "give a sample name"),
    ("post", "/api/image", {"content": b"GIF89a not really"}, 400, "not an image"),
    ("post", "/api/image", {"content": b""}, 400, "the upload is empty"),
    ("get", "/api/arithmetic?input=5&kernel=7", {}, 400, "does not fit"),
    ("get", "/api/arithmetic?input=500", {}, 400, "input must be an int from 1 to 32"),
    ("get", "/api/arithmetic?padding=lots", {}, 400, "padding must be valid, same, full or an int"),
    ("get", "/api/arithmetic?kernal=3", {}, 400, "unknown arithmetic settings ['kernal']"),
    ("get", "/api/arithmetic.png?input=5&step=99", {}, 400, "step must be an int from 0 to 10"),
    ("get", "/api/nothing", {}, 404, "no such page or API endpoint: GET /api/nothing"),
    ("get", "/api/predict", {}, 405, "/api/predict does not take GET requests"),
]


@pytest.mark.parametrize("method, path, body, status, message", BAD_REQUESTS)
def test_bad_requests_get_a_clear_4xx(client, method, path, body, status, message):
    response = getattr(client, method)(path, **body)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert client.get("/api/model").status_code == 200          # and the server goes on


@pytest.mark.parametrize("side, message", [
    (20000, "too large to decode safely: Image size (400000000 pixels)"),             # Pillow's own bomb check
    (8000, "is 8000x8000 = 64,000,000 pixels, more than the limit of 50,000,000"),    # striate.images.MAX_PIXELS
])
def test_a_huge_image_is_refused_before_decoding(client, side, message):
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)         # one bit a pixel, greyscale
    response = client.post("/api/image", content=png_header(header))    # no pixel data: never decoded
    assert response.status_code == 400 and message in response.json()["error"]
    assert "the upload" in response.json()["error"]


def png_header(ihdr):
    """A PNG file that holds only its signature, an IHDR chunk (the size) and the end: a header to refuse."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_a_body_over_the_limit_is_refused(client):
    from striate.explore.app import MAX_UPLOAD_BYTES

    response = client.post("/api/image", content=b"\0" * (MAX_UPLOAD_BYTES + 1))
    assert response.status_code == 413 and "more than the limit" in response.json()["error"]


# ---- many requests at once -----------------------------------------------------------------------------------
def test_50_concurrent_predicts_equal_sequential_ones(client, explorer, mnist_test_images):
    """50 predicts (and 10 saliency maps, which take gradients while predicts run without) at once, through
    the ASGI app: each answer equals the one given alone."""
    from striate.explore import create_app

    images = mnist_test_images[0][:50]
    sequential = [client.post("/api/predict", json={"pixels": pixels(image)}).json() for image in images]
    sequential_maps = [client.post("/api/attribution", json={"pixels": pixels(image)}).json()
                       for image in images[:10]]

    async def all_at_once():
        transport = httpx.ASGITransport(app=create_app(explorer))
        async with httpx.AsyncClient(transport=transport, base_url="http://explore") as concurrent:
            predicts = [concurrent.post("/api/predict", json={"pixels": pixels(image)}) for image in images]
            maps = [concurrent.post("/api/attribution", json={"pixels": pixels(image)}) for image in images[:10]]
            return await asyncio.gather(*predicts, *maps)

    responses = asyncio.run(all_at_once())
    assert all(response.status_code == 200 for response in responses)
    assert [response.json() for response in responses[:50]] == sequential
    assert [response.json() for response in responses[50:]] == sequential_maps


def test_answers_are_plain_json(client, digit):
    response = client.post("/api/predict", json={"pixels": pixels(digit)})
    assert response.headers["content-type"] == "application/json"
    assert json.loads(response.text)["predicted"] in range(10)
