"""`python -m web serve`: the site and the API on uvicorn, over the published serving snapshot."""

from __future__ import annotations

import argparse
from pathlib import Path

from web.snapshot import read_pointer, serve_address, serving_dir


def start_line(directory: Path, host: str, port: int) -> str:
    """The one line printed on start: what is served, or that nothing is published yet."""
    url = f"http://{host}:{port}"
    pointer = read_pointer(directory)
    if pointer is None:
        return f"Serving {directory} (nothing published yet: run `make run`) on {url}"
    return f"Serving {directory} (snapshot {pointer['version']}, as of {pointer.get('as_of')}) on {url}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m web", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the site and the API")
    host, port = serve_address()
    serve.add_argument("--host", default=host, help="default: KLOUT_SERVE_HOST or 127.0.0.1")
    serve.add_argument("--port", type=int, default=port, help="default: KLOUT_SERVE_PORT or 8000")
    serve.add_argument("--snapshot-dir", type=Path, default=None, help="default: KLOUT_SERVING_DIR or data/serving")
    args = parser.parse_args(argv)

    import uvicorn

    from web.app import create_app

    directory = (args.snapshot_dir or serving_dir()).resolve()
    print(start_line(directory, args.host, args.port), flush=True)
    uvicorn.run(create_app(directory), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
