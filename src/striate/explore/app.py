"""The explorer's web application (Starlette): the page, its static files and the JSON API over an `Explorer`.

    GET  /                      the page (static/index.html; its JavaScript and CSS ship in static/)
    GET  /api/model             the model: shapes, classes, every layer's plan row, the samples offered
    GET  /api/sample?name=N     a sample input: pixels and what was done to fit it
    POST /api/image             an image file as the request body: pixels fitted to the model's input, notes
    POST /api/predict           {"pixels"}: class probabilities
    POST /api/maps              {"pixels", "layers"?}: every layer's output
    POST /api/cell              {"pixels", "layer", "position", "channel"?}: one value, its region, its arithmetic
    POST /api/attribution       {"pixels", "method"?, "class"?, "patch"?, "stride"?}: saliency / occlusion map
    GET  /api/filters?layer=L   a Conv2D layer's filters as images (&input_channel=K)
    GET  /api/arithmetic?...    output size and formula (input, kernel, stride, padding, dilation, transposed)
    GET  /api/arithmetic.png?...&step=K   picture K of the convolution arithmetic animation

Every error is answered as JSON {"error": message} with a 4xx status: 400 for a bad request (malformed JSON,
wrong pixels, a file that is not an image), 404 for an unknown layer, sample or path, 405 for a wrong method,
413 for a body over the limit. The models' computations run in worker threads, at the same time (the Explorer
never changes its model), so the server keeps answering.
"""

import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from striate.explore.arithmetic import arithmetic, arithmetic_picture, parse_settings
from striate.explore.inputs import InputError, sample_names

STATIC = Path(__file__).parent / "static"
MAX_JSON_BYTES = 16 * 2**20      # a JSON request body (pixels of a 224x224x3 input are about 2 MB)
MAX_UPLOAD_BYTES = 20 * 2**20    # an uploaded image file


def create_app(explorer):
    """The Starlette application serving `explorer` (an striate.explore.Explorer)."""

    async def page(request):
        return FileResponse(STATIC / "index.html")

    async def model(request):
        return JSONResponse(await run_in_threadpool(explorer.describe))

    async def sample(request):
        name = request.query_params.get("name")
        if not name:
            names = ", ".join(sample_names(explorer.shape)) or "none installed"
            raise InputError(f"give a sample name: /api/sample?name=...; samples: {names}")
        return JSONResponse(await run_in_threadpool(explorer.sample, name))

    async def image(request):
        data = await read_body(request, MAX_UPLOAD_BYTES)
        return JSONResponse(await run_in_threadpool(explorer.upload, data))

    async def predict(request):
        body = await read_json(request)
        return JSONResponse(await run_in_threadpool(explorer.predict, field(body, "pixels")))

    async def maps(request):
        body = await read_json(request)
        return JSONResponse(await run_in_threadpool(explorer.maps, field(body, "pixels"), body.get("layers")))

    async def cell(request):
        body = await read_json(request)
        arguments = field(body, "pixels"), field(body, "layer"), field(body, "position"), body.get("channel", 0)
        return JSONResponse(await run_in_threadpool(explorer.cell, *arguments))

    async def attribution(request):
        body = await read_json(request)
        arguments = (field(body, "pixels"), body.get("method", "saliency"), body.get("class"), body.get("patch"),
                     body.get("stride"))
        return JSONResponse(await run_in_threadpool(explorer.attribution, *arguments))

    async def filters(request):
        layer = request.query_params.get("layer")
        if not layer:
            raise InputError("give a layer: /api/filters?layer=NAME")
        channel = query_int(request, "input_channel")
        return JSONResponse(await run_in_threadpool(explorer.filters, layer, channel))

    async def arithmetic_numbers(request):
        settings = parse_settings(dict(request.query_params))
        return JSONResponse(await run_in_threadpool(arithmetic, settings))

    async def arithmetic_png(request):
        settings = parse_settings(dict(request.query_params))
        step = query_int(request, "step") or 0
        png = await run_in_threadpool(arithmetic_picture, settings, step)
        return Response(png, media_type="image/png")

    routes = [
        Route("/", page), Route("/api/model", model), Route("/api/sample", sample),
        Route("/api/image", image, methods=["POST"]), Route("/api/predict", predict, methods=["POST"]),
        Route("/api/maps", maps, methods=["POST"]), Route("/api/cell", cell, methods=["POST"]),
        Route("/api/attribution", attribution, methods=["POST"]), Route("/api/filters", filters),
        Route("/api/arithmetic", arithmetic_numbers), Route("/api/arithmetic.png", arithmetic_png),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    handlers = {InputError: _input_error, ValueError: _value_error, HTTPException: _http_error}
    return Starlette(routes=routes, exception_handlers=handlers)


async def read_body(request: Request, limit):
    """The request's body, refused with 413 once it passes `limit` bytes (checked while it arrives)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InputError(f"the request body is {int(declared):,} bytes, more than the limit of {limit:,}", 413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise InputError(f"the request body is more than the limit of {limit:,} bytes", 413)
    return bytes(body)


async def read_json(request):
    """The body as a JSON object; malformed JSON or another JSON value is refused with 400."""
    body = await read_body(request, MAX_JSON_BYTES)
    try:
        value = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"the request body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise InputError(f"the request body must be a JSON object such as {{\"pixels\": [...]}}; received a "
                         f"{type(value).__name__}")
    return value


def field(body, name):
    """body[name], or a 400 naming the missing field."""
    if name not in body:
        raise InputError(f"the request needs the field {name!r}; received the fields {sorted(body)}")
    return body[name]


def query_int(request, name):
    """The query parameter `name` as an int (None when absent); 400 when it is not one."""
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    if not text.lstrip("-").isdigit():
        raise InputError(f"{name} must be an int; received {text!r}")
    return int(text)


async def _input_error(request, error):
    return JSONResponse({"error": str(error)}, status_code=error.status)


async def _value_error(request, error):
    return JSONResponse({"error": str(error)}, status_code=400)


async def _http_error(request, error):
    detail = error.detail
    if error.status_code == 404:
        detail = f"no such page or API endpoint: {request.method} {request.url.path}"
    elif error.status_code == 405:
        detail = f"{request.url.path} does not take {request.method} requests"
    return JSONResponse({"error": detail}, status_code=error.status_code, headers=getattr(error, "headers", None))
