"""`python -m sandbox serve [--port 8765] [--persons 200] [--days 30] [--seed 7] [--fault-rate 0]
[--end-date YYYY-MM-DD] [--preset default|adversarial]`."""

import argparse
import time
from datetime import date

from sandbox.server import FaultConfig, SandboxServer
from sandbox.world import PRESETS, WorldConfig, build_world


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a synthetic world over HTTP until interrupted")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--persons", type=int, default=200)
    serve.add_argument("--days", type=int, default=30)
    serve.add_argument("--seed", type=int, default=7)
    serve.add_argument("--fault-rate", type=float, default=0.0)
    serve.add_argument(
        "--end-date", type=date.fromisoformat, default=None, help="the world's last day (default: today UTC)"
    )
    serve.add_argument(
        "--preset", choices=PRESETS, default="default", help="the world's preset (sandbox/world.py WorldConfig)"
    )
    args = parser.parse_args()

    dated = {"end_date": args.end_date} if args.end_date else {}
    world = build_world(WorldConfig(seed=args.seed, persons=args.persons, days=args.days, preset=args.preset, **dated))
    server = SandboxServer(world, faults=FaultConfig(seed=args.seed, rate=args.fault_rate), port=args.port)
    print(server.start(), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
