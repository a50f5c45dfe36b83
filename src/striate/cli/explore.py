"""`striate explore RUN_DIR_OR_MODEL_FILE [--port 8765] [--host 127.0.0.1]`: a local web page that shows the
model at work (striate.explore): draw or pick an input, see the prediction, every layer's feature maps, the
filters, saliency, and the arithmetic of any clicked value. Serves until Ctrl-C.
"""

import socket

from striate.cli import CommandError

DEFAULT_PORT = 8765


def add_arguments(parser):
    parser.add_argument("model", help="a folder written by `striate train`, or a model .safetensors file")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the port to serve on (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the address to listen on (default 127.0.0.1: this computer only)")


def run(arguments):
    try:
        import uvicorn

        from striate.explore import Explorer, create_app
    except ModuleNotFoundError as error:
        raise CommandError(f"needs the web packages Starlette and uvicorn ({error}); install them with: "
                           "pip install starlette uvicorn") from None
    if not 0 <= arguments.port <= 65535:
        raise CommandError(f"--port must be from 0 to 65535; received {arguments.port}")
    explorer = Explorer.from_path(arguments.model)
    listener = _listen(arguments.host, arguments.port)
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"striate explore: {explorer.model.name} from {explorer.source}")
    print(f"serving at http://{shown}:{port}/ (press Ctrl-C to stop)", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(explorer), log_level="warning"))
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
    return 0


def _listen(host, port):
    """A listening socket on host:port, or a CommandError saying why not (port in use, unknown address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError as error:
        listener.close()
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror or error}; choose another --port "
                           "or --host") from None
    return listener
