"""dbt models as partitioned assets: the partition window goes to dbt as --vars."""

import json
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from ..partitions import daily_partitions, dbt_window_vars, single_run
from ..warehouse import REPO_ROOT

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


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
