"""Shared fixtures: the dbt manifest Dagster needs, and a throwaway warehouse per test module."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent
DBT_DIR = REPO / "dbt_project"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")

# Every property test, whichever worker runs it first: no per-example deadline (timings are the
# benchmarks' business, and a loaded machine is slow), 40 examples each.
settings.register_profile("ci", max_examples=40, deadline=None)
settings.load_profile("ci")


PARTIAL_PARSE = "partial_parse.msgpack"


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory) -> Path:
    """`dbt parse` once per session (outside `dagster dev`, prepare_if_dev() does nothing)."""
    target = DBT_DIR / "target"
    with FileLock(str(DBT_DIR / "target.lock")):
        # Parsed beside the target, then moved in whole: the other worker's tests may be reading
        # target/manifest.json at this moment, and dbt writes it in place.
        staging = DBT_DIR / f".parse-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        if (target / PARTIAL_PARSE).exists():
            shutil.copy2(target / PARTIAL_PARSE, staging / PARTIAL_PARSE)
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt), "parse", "--quiet", "--profiles-dir", ".", "--project-dir", ".", "--target-path", str(staging)],
            cwd=DBT_DIR,
            check=True,
            env={**os.environ, "KLOUT_WAREHOUSE": str(tmp_path_factory.mktemp("parse") / "w.duckdb")},
        )
        target.mkdir(exist_ok=True)
        for parsed in staging.iterdir():
            if parsed.is_file():
                os.replace(parsed, target / parsed.name)  # atomic: a reader sees the old file or the new one
        shutil.rmtree(staging, ignore_errors=True)
    return target / "manifest.json"
