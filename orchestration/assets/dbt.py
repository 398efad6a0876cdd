"""dbt models as partitioned assets: the partition window goes to dbt as --vars.

The `dbt` resource is `InProcessDbtResource` (orchestration/dbt_inprocess.py): dbt runs in the run's
process on a manifest parsed once, so a new window does not cost a process start and a re-parse."""

import json

from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ..dbt_project import KloutDbtTranslator, dbt_project
from ..partitions import PARTITIONED, dbt_window_vars


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=KloutDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    **PARTITIONED,
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    window = context.partition_time_window
    yield from dbt.cli(
        ["build", "--vars", json.dumps(dbt_window_vars(window.start, window.end))], context=context
    ).stream()
