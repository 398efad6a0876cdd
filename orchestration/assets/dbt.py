"""dbt models as partitioned assets: the partition window goes to dbt as --vars."""

import json
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster._utils import run_with_concurrent_update_guard
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer

from ..partitions import daily_partitions, dbt_window_vars, single_run
from ..warehouse import REPO_ROOT

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


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    dagster_dbt_translator=KloutDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    pool="duckdb",
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    window = context.partition_time_window
    yield from dbt.cli(
        ["build", "--vars", json.dumps(dbt_window_vars(window.start, window.end))], context=context
    ).stream()
