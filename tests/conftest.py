"""Shared fixtures: the dbt manifest Dagster needs, and a throwaway warehouse per test module."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def dbt_manifest(tmp_path_factory) -> Path:
    """`dbt parse` once per session (outside `dagster dev`, prepare_if_dev() does nothing)."""
    manifest = DBT_DIR / "target" / "manifest.json"
    with FileLock(str(DBT_DIR / "target.lock")):
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run(
            [str(dbt), "parse", "--quiet", "--profiles-dir", ".", "--project-dir", "."],
            cwd=DBT_DIR,
            check=True,
            env={**os.environ, "KLOUT_WAREHOUSE": str(tmp_path_factory.mktemp("parse") / "w.duckdb")},
        )
    return manifest
