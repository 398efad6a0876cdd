"""The dbt project as Dagster sees it: where it is, which dbt parses it, how its nodes are keyed,
and the facts it declares that Python reads too (feature knobs, model asset keys)."""

import json
import shutil
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from dagster import AssetKey
from dagster._utils import run_with_concurrent_update_guard
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer

from .warehouse import REPO_ROOT

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project's .venv), whether or not it is activated."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


class VenvDbtPreparer(DagsterDbtProjectPreparer):
    """Under `dagster dev`, parse with `dbt_executable()`: dagster-dbt's own preparer runs `dbt`
    from PATH, so a UI started without the venv on PATH would fail to load the code location."""

    def prepare(self, project: DbtProject) -> None:
        # the guard dagster-dbt uses too: two processes loading at once parse once
        run_with_concurrent_update_guard(project.manifest_path, self._parse, project=project)

    @staticmethod
    def _parse(project: DbtProject) -> None:
        DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
            ["parse", "--quiet"], target_path=project.target_path
        ).wait()


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
VenvDbtPreparer().prepare_if_dev(dbt_project)


class KloutDbtTranslator(DagsterDbtTranslator):
    """Keys models by schema (staging/intermediate/marts) and sources as raw/<table>."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return AssetKey([dbt_resource_props["config"]["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["config"].get("schema") or "dbt"


@cache
def dbt_vars() -> dict[str, Any]:
    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


def feature_knobs() -> dict[str, Any]:
    """Window, half-life and selectivity: declared once, as dbt vars (the feature SQL uses them),
    and handed to every formula the Python assets load."""
    return {k: dbt_vars()[k] for k in ("window_days", "half_life_days", "selectivity_exponent")}


@cache
def _manifest_nodes() -> dict[str, Mapping[str, Any]]:
    manifest = json.loads(Path(dbt_project.manifest_path).read_text())
    return {props["name"]: props for props in manifest["nodes"].values() if props["resource_type"] == "model"}


def dbt_key(model: str) -> AssetKey:
    """The asset key of a dbt model, as the manifest and the translator give it (never typed by hand)."""
    try:
        return KloutDbtTranslator().get_asset_key(_manifest_nodes()[model])
    except KeyError:
        raise KeyError(f"dbt model {model!r} is not in {dbt_project.manifest_path}") from None
