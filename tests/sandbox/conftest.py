"""Shared fixtures for sandbox tests: a small world, a running server, and the reference specs."""

import json
import re
import sys
from datetime import date
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandbox.server import SandboxServer  # noqa: E402
from sandbox.world import WorldConfig, build_world  # noqa: E402

REFERENCE = ROOT / "tests" / "fixtures" / "reference"
END = date(2026, 3, 31)


@pytest.fixture(scope="session")
def config():
    return WorldConfig(seed=11, persons=120, end_date=END, days=14)


@pytest.fixture(scope="session")
def world(config):
    return build_world(config)


@pytest.fixture(scope="session")
def server(world):
    with SandboxServer(world) as srv:
        yield srv


@pytest.fixture()
def base(server):
    """Base URL with the clock reset to the world's default for each test."""
    from sandbox.world import end_of_day

    server.set_clock(end_of_day(server.world.config.end_date))
    return server.base_url


@pytest.fixture(scope="session")
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="session")
def mastodon_examples():
    return {name: json.loads((REFERENCE / "mastodon" / f"{name}.json").read_text()) for name in ("Status", "Account")}


@pytest.fixture(scope="session")
def lexicons():
    return Lexicons(REFERENCE / "bluesky-lexicons")


class LexiconError(AssertionError):
    pass


class Lexicons:
    """A small atproto lexicon validator: objects, required fields, primitive types, refs, unions.

    Refs to lexicons not in the copied set (e.g. com.atproto.repo.strongRef) are recorded in
    `unresolved` and not validated further.
    """

    FORMATS = {
        "datetime": re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"),
        "did": re.compile(r"^did:[a-z]+:[A-Za-z0-9._:%-]+$"),
        "at-uri": re.compile(r"^at://[^/]+(/[^/]+(/[^/]+)?)?$"),
        "handle": re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)+[a-zA-Z]{2,}$"),
        "cid": re.compile(r"^[a-z2-7]{20,}$"),
        "uri": re.compile(r"^[a-z][a-z0-9+.-]*:\S+$"),
        "at-identifier": re.compile(r"^(did:|[a-zA-Z0-9])"),
        "language": re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9-]+)?$"),
    }

    def __init__(self, folder: Path):
        self.docs = {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}
        self.unresolved: set[str] = set()

    def resolve(self, ref: str, context: str):
        nsid, _, name = ref.partition("#")
        nsid = nsid or context
        doc = self.docs.get(nsid)
        if doc is None or (name or "main") not in doc["defs"]:
            return None, nsid
        return doc["defs"][name or "main"], nsid

    def output_schema(self, nsid: str) -> dict:
        return self.docs[nsid]["defs"]["main"]["output"]["schema"]

    def validate_output(self, nsid: str, value) -> None:
        self.check(self.output_schema(nsid), value, nsid, nsid)

    def validate_record(self, value) -> None:
        self.check(self.docs["app.bsky.feed.post"]["defs"]["main"]["record"], value, "app.bsky.feed.post", "record")

    def check(self, schema: dict, value, context: str, path: str) -> None:
        kind = schema["type"]
        if kind == "ref":
            target, ctx = self.resolve(schema["ref"], context)
            if target is None:
                self.unresolved.add(schema["ref"])
                return
            return self.check(target, value, ctx, path)
        if kind == "union":
            if not isinstance(value, dict) or "$type" not in value:
                raise LexiconError(f"{path}: union value needs $type")
            refs = [r if not r.startswith("#") else f"{context}{r}" for r in schema["refs"]]
            if value["$type"] not in refs and value["$type"] + "#main" not in refs:
                raise LexiconError(f"{path}: $type {value['$type']} not in {refs}")
            target, ctx = self.resolve(value["$type"], context)
            if target is None:
                self.unresolved.add(value["$type"])
                return
            return self.check(target, value, ctx, path)
        if kind == "unknown":
            return
        if kind == "object":
            if not isinstance(value, dict):
                raise LexiconError(f"{path}: expected object, got {type(value).__name__}")
            for name in schema.get("required", []):
                if name not in value:
                    raise LexiconError(f"{path}: missing required {name}")
            for name, sub in schema.get("properties", {}).items():
                if name in value and not (value[name] is None and name in schema.get("nullable", [])):
                    self.check(sub, value[name], context, f"{path}.{name}")
            return
        if kind == "array":
            if not isinstance(value, list):
                raise LexiconError(f"{path}: expected array")
            for i, item in enumerate(value):
                self.check(schema["items"], item, context, f"{path}[{i}]")
            return
        if kind == "string":
            if not isinstance(value, str):
                raise LexiconError(f"{path}: expected string, got {value!r}")
            fmt = schema.get("format")
            if fmt in self.FORMATS and not self.FORMATS[fmt].match(value):
                raise LexiconError(f"{path}: {value!r} is not a valid {fmt}")
            return
        if kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                raise LexiconError(f"{path}: expected integer, got {value!r}")
            if "minimum" in schema and value < schema["minimum"]:
                raise LexiconError(f"{path}: below minimum")
            return
        if kind == "boolean":
            if not isinstance(value, bool):
                raise LexiconError(f"{path}: expected boolean")
            if "const" in schema and value != schema["const"]:
                raise LexiconError(f"{path}: expected const {schema['const']}")
            return
        raise LexiconError(f"{path}: unsupported lexicon type {kind}")
