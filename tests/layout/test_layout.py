"""The architecture as the code must keep it: a pure domain, connectors that know HTTP only, a
sandbox beside them, and asset modules that are wiring (short functions, no asset module
importing another)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ASSET_DECORATORS = {"asset", "multi_asset", "asset_check", "op", "dbt_assets"}
MAX_ASSET_LINES = 25


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Top-level names of every absolute import, and '.'-prefixed names of relative ones."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        (
            "domain",
            {
                "dagster",
                "dagster_dbt",
                "dagster_duckdb",
                "duckdb",
                "requests",
                "urllib3",
                "orchestration",
                "connectors",
                "sandbox",
                "expectations",
                "great_expectations",
            },
        ),
        ("connectors", {"dagster", "dagster_dbt", "dagster_duckdb", "orchestration", "sandbox", "domain"}),
        ("sandbox", {"dagster", "orchestration", "domain", "duckdb"}),
        ("expectations", {"dagster", "orchestration"}),
        # the site reads the published snapshot only: never the pipeline, the networks or the warehouse's writers
        (
            "web",
            {"dagster", "dagster_dbt", "dagster_duckdb", "orchestration", "connectors", "sandbox", "requests", "dbt"},
        ),
    ],
)
def test_packages_import_only_what_their_layer_may(package, forbidden):
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules(package)
        for name in imported(path)
        if not name.startswith(".") and top(name) in forbidden
    }
    assert not offenders, sorted(offenders)


def asset_functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef):
            names = {
                (d.func if isinstance(d, ast.Call) else d).id
                for d in node.decorator_list
                if isinstance(d.func if isinstance(d, ast.Call) else d, ast.Name)
            }
            if names & ASSET_DECORATORS:
                yield node


def test_every_asset_function_is_at_most_25_lines():
    found = {
        f"{path.name}::{fn.name}": fn.end_lineno - fn.lineno + 1
        for path in modules("orchestration/assets")
        for fn in asset_functions(path)
    }
    assert len(found) >= 15  # the scan sees the assets at all
    too_long = {name: lines for name, lines in found.items() if lines > MAX_ASSET_LINES}
    assert not too_long, too_long


def test_no_asset_module_imports_another():
    siblings = {p.stem for p in modules("orchestration/assets")}
    offenders = {
        f"{path.name}: {name}"
        for path in modules("orchestration/assets")
        for name in imported(path)
        if name.lstrip(".") in siblings
        or (name.startswith(".") and not name.startswith("..") and name.lstrip(".").split(".")[0] in siblings)
        or name.startswith("orchestration.assets")
    }
    assert not offenders, sorted(offenders)
