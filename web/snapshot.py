"""Publishing and reading the serving snapshot: one DuckDB file per version, and a pointer.

A run builds the next snapshot into a new file, then swaps `current.json` with `os.replace`
(atomic on POSIX): a reader sees the old day or the new one, never half of either, and never opens
the warehouse the run is writing. Snapshots are immutable once published, so a reader may keep a
read-only connection to one for as long as the pointer names it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

SCHEMA = Path(__file__).with_name("schema.sql")
POINTER = "current.json"


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
    meta: dict  # what the pointer says: as_of, formula_version, history_days, people


def publish(directory: Path, version: str, fill: Callable[[duckdb.DuckDBPyConnection], dict]) -> Published:
    """Build snapshot `version` with `fill(conn)` (it fills the tables and returns the meta it
    wrote: as_of, formula_version) in a new file, then point `current.json` at it."""
    directory.mkdir(parents=True, exist_ok=True)
    building = _building(directory)
    with duckdb.connect(str(building)) as conn:
        create_schema(conn)
        meta = fill(conn)
    return _swap_in(directory, building, version, meta)


def publish_attached(
    directory: Path, conn: duckdb.DuckDBPyConnection, fill: Callable[[], dict], name: str = "snapshot"
) -> Published:
    """Build the next snapshot by attaching a new file to `conn` as `name` and calling `fill()`
    (set-based inserts from the warehouse straight into it), then publish it under a version that
    hashes its content: publishing the same content again swaps nothing."""
    directory.mkdir(parents=True, exist_ok=True)
    building = _building(directory)
    with duckdb.connect(str(building)) as fresh:
        create_schema(fresh)
    conn.execute(f"attach '{building}' as {name}")
    try:
        meta = fill()
        version = content_version(conn, name, meta)
        conn.execute(
            f"insert into {name}.meta values (?, ?, ?, ?, now())",
            [version, meta["as_of"], meta["formula_version"], meta["history_days"]],
        )
    except BaseException:
        conn.execute(f"detach {name}")
        building.unlink(missing_ok=True)  # a failed build leaves nothing behind; the current snapshot stays
        raise
    conn.execute(f"detach {name}")
    return _swap_in(directory, building, version, meta)


def content_version(conn: duckdb.DuckDBPyConnection, name: str, meta: dict) -> str:
    """A hash of every table's rows (order-independent) and the meta: equal content, equal version."""
    tables = [
        t
        for (t,) in conn.execute(
            "select table_name from duckdb_tables() where database_name = ? and table_name <> 'meta' order by 1", [name]
        ).fetchall()
    ]
    digest = hashlib.sha256(json.dumps({k: str(meta[k]) for k in sorted(meta)}).encode())
    for table in tables:
        (rows, total) = conn.execute(
            f"select count(*), coalesce(sum(hash(t)::hugeint), 0) from {name}.{table} as t"
        ).fetchone()
        digest.update(f"{table}:{rows}:{total};".encode())
    return digest.hexdigest()[:16]


def _building(directory: Path) -> Path:
    return directory / f".building-{os.getpid()}-{uuid.uuid4().hex[:8]}.duckdb"


def _swap_in(directory: Path, building: Path, version: str, meta: dict) -> Published:
    final = directory / f"snapshot-{version}.duckdb"
    current = read_pointer(directory)
    if current and current.get("version") == version and final.exists():
        building.unlink(missing_ok=True)  # the same content is already served: nothing changes for readers
        return Published(version, final, current["as_of"], current["formula_version"], replaced=False, meta=current)
    os.replace(building, final)
    pointer = {"version": version, "file": final.name, **{k: str(v) for k, v in meta.items()}}
    staged = directory / f".{POINTER}.{os.getpid()}"
    staged.write_text(json.dumps(pointer, indent=2) + "\n")
    os.replace(staged, directory / POINTER)
    _prune(directory, keep={final.name})
    return Published(version, final, pointer["as_of"], pointer["formula_version"], replaced=True, meta=pointer)


def read_pointer(directory: Path) -> dict | None:
    try:
        return json.loads((directory / POINTER).read_text())
    except FileNotFoundError:
        return None


def _prune(directory: Path, keep: set[str]) -> None:
    """Only the current snapshot stays: someone forgotten since must not linger in an older file. A
    reader's open connection to a removed file keeps working (POSIX), and new readers follow the pointer."""
    for old in directory.glob("snapshot-*.duckdb"):
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
                try:
                    fresh = duckdb.connect(str(self.directory / pointer["file"]), read_only=True)
                except duckdb.IOException:  # replaced between reading the pointer and opening it
                    pointer = read_pointer(self.directory)
                    fresh = duckdb.connect(str(self.directory / pointer["file"]), read_only=True)
                # the old connection is not closed: requests still reading it finish, then it is collected
                self._conn, self._version = fresh, pointer["version"]
            return self._conn.cursor()


def serve_address() -> tuple[str, int]:
    """Where `make serve` listens: KLOUT_SERVE_HOST (127.0.0.1) and KLOUT_SERVE_PORT (8000)."""
    return os.getenv("KLOUT_SERVE_HOST") or "127.0.0.1", int(os.getenv("KLOUT_SERVE_PORT") or 8000)


def serve_url() -> str:
    host, port = serve_address()
    return f"http://{host}:{port}/"
