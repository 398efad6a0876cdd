"""Publishing and reading the serving snapshot: one DuckDB file per version, and a pointer.

A run builds the next snapshot into a new file, then swaps `current.json` with `os.replace`
(atomic on POSIX): a reader sees the old day or the new one, never half of either, and never opens
the warehouse the run is writing. Snapshots are immutable once published, so a reader may keep a
read-only connection to one for as long as the pointer names it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

SCHEMA = Path(__file__).with_name("schema.sql")
POINTER = "current.json"
KEEP = 3  # published files kept: a reader that opened an older one a moment ago keeps working


def serving_dir() -> Path:
    """Where snapshots live: KLOUT_SERVING_DIR, else `serving/` beside the warehouse file."""
    if os.getenv("KLOUT_SERVING_DIR"):
        return Path(os.environ["KLOUT_SERVING_DIR"])
    warehouse = Path(os.getenv("KLOUT_WAREHOUSE") or "data/warehouse.duckdb")
    return warehouse.resolve().parent / "serving"


def create_schema(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(SCHEMA.read_text())


@dataclass(frozen=True)
class Published:
    version: str
    path: Path
    as_of: str
    formula_version: str
    replaced: bool  # False: this version was already the current one (nothing changed)


def publish(directory: Path, version: str, fill: Callable[[duckdb.DuckDBPyConnection], dict]) -> Published:
    """Build snapshot `version` with `fill(conn)` (it returns the meta it wrote: as_of,
    formula_version) into a new file, then point `current.json` at it. Publishing the current
    version again rewrites nothing."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"snapshot-{version}.duckdb"
    current = read_pointer(directory)
    if current and current.get("version") == version and final.exists():
        return Published(version, final, current["as_of"], current["formula_version"], replaced=False)
    building = directory / f".building-{version}-{os.getpid()}.duckdb"
    building.unlink(missing_ok=True)
    with duckdb.connect(str(building)) as conn:
        create_schema(conn)
        meta = fill(conn)
        conn.execute("checkpoint")
    os.replace(building, final)
    pointer = {"version": version, "file": final.name, **{k: str(v) for k, v in meta.items()}}
    staged = directory / f".{POINTER}.{os.getpid()}"
    staged.write_text(json.dumps(pointer, indent=2) + "\n")
    os.replace(staged, directory / POINTER)
    _prune(directory, keep={final.name})
    return Published(version, final, pointer["as_of"], pointer["formula_version"], replaced=True)


def read_pointer(directory: Path) -> dict | None:
    try:
        return json.loads((directory / POINTER).read_text())
    except FileNotFoundError:
        return None


def _prune(directory: Path, keep: set[str]) -> None:
    published = sorted(directory.glob("snapshot-*.duckdb"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in published[KEEP:]:
        if old.name not in keep:
            old.unlink(missing_ok=True)


class SnapshotReader:
    """The current snapshot, opened read-only once per version and reopened when the pointer moves.

    Each request gets its own cursor (DuckDB connections are not shared across threads)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._lock = threading.Lock()
        self._version: str | None = None
        self._conn: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection | None:
        """A cursor on the current snapshot, or None when nothing has been published yet."""
        pointer = read_pointer(self.directory)
        if pointer is None:
            return None
        with self._lock:
            if pointer["version"] != self._version:
                path = self.directory / pointer["file"]
                fresh = duckdb.connect(str(path), read_only=True)
                if self._conn is not None:
                    self._conn.close()
                self._conn, self._version = fresh, pointer["version"]
            return self._conn.cursor()
