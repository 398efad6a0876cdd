"""The sandbox in a child process: the connectors and the server each get a core of their own."""

from __future__ import annotations

import atexit
import subprocess
import sys
import threading
from datetime import date, datetime

import requests


class SandboxProcess:
    """`python -m sandbox serve` on a free 127.0.0.1 port, controlled over HTTP."""

    def __init__(
        self,
        *,
        persons: int,
        days: int,
        seed: int,
        fault_rate: float = 0.0,
        end_date: date | None = None,
        preset: str = "default",
    ):
        cmd = [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--persons",
            str(persons),
            "--days",
            str(days),
            "--seed",
            str(seed),
            "--fault-rate",
            str(fault_rate),
            "--preset",
            preset,
        ]
        if end_date:
            cmd += ["--end-date", end_date.isoformat()]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        atexit.register(self.stop)
        line = self._proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"sandbox did not start (exit code {self._proc.poll()}): {line!r}")
        self.base_url = line
        self._session = requests.Session()
        self._lock = threading.Lock()
        self._world = self._session.get(f"{self.base_url}/_sandbox/world", timeout=30).json()

    def public_handles(self, network: str) -> list[str]:
        return list(self._world["public_handles"].get(network, []))

    def person_tokens(self, network: str) -> dict[str, str]:
        """The sandbox's token store: handle -> token of each person who connected `network`
        (a network read with each person's own token). Never logged."""
        with self._lock:
            reply = self._session.get(f"{self.base_url}/_sandbox/tokens/{network}", timeout=30)
        reply.raise_for_status()
        return dict(reply.json()["tokens"])

    def set_clock(self, now: datetime, network: str | None = None) -> None:
        """The world's clock, or only `network`'s (networks landed at once may be on different days)."""
        body = {"now": now.isoformat(), **({"network": network} if network else {})}
        with self._lock:  # one session, used by every landing thread
            self._session.post(f"{self.base_url}/_sandbox/clock", json=body, timeout=30).raise_for_status()

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
