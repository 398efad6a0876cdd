"""The code location: one Definitions for every asset, check, resource and schedule."""

from __future__ import annotations

import os
from datetime import date

from dagster import AssetSelection, Definitions, EnvVar, define_asset_job, in_process_executor

from connectors import NETWORKS

from .assets.comparison import formula_comparison
from .assets.dbt import dbt_models
from .assets.privacy import (
    erase_person,
    export_person,
    no_unmeasured_person_outside_registry,
    privacy_audit,
    unmeasured_persons,
)
from .assets.raw import raw_networks, raw_platform
from .assets.scoring import leaderboard, score_changes_asset, scores_and_influence_graph
from .assets.serving import serving_snapshot
from .assets.topics import kplus, perk_eligibility, person_topics, topic_leaderboards
from .checks import all_gx_checks
from .dbt_inprocess import InProcessDbtResource
from .dbt_project import dbt_executable, dbt_project
from .keys import REVIEW_GROUP
from .partitions import PARTITIONS_START, daily_partitions
from .resources import PLATFORM, SocialNetworks, base_url_env, token_env
from .schedules import build_daily_schedule
from .warehouse import warehouse_resource

APIS = [*NETWORKS, PLATFORM]  # what has a base URL and a token

# Everything but the version review, which needs a candidate version as run config.
daily_selection = AssetSelection.all() - AssetSelection.groups(REVIEW_GROUP)
daily_job = define_asset_job("daily_influence", selection=daily_selection, partitions_def=daily_partitions)

# Every morning (06:00 UTC): yesterday, plus any day of the last month that was missed.
daily_schedule = build_daily_schedule(daily_job, date.fromisoformat(PARTITIONS_START))


def _env(name: str, default: str) -> str:
    return os.getenv(name) or default


def _sandbox_preset() -> str:
    """KLOUT_SANDBOX_PRESET, refused here with the setting's name (not later, in the sandbox's process)."""
    from sandbox.world import PRESETS

    preset = _env("KLOUT_SANDBOX_PRESET", "default")
    if preset not in PRESETS:
        raise ValueError(f"KLOUT_SANDBOX_PRESET={preset!r} is not a sandbox preset: use one of {', '.join(PRESETS)}")
    return preset


def social_from_env() -> SocialNetworks:
    """Connector settings from env vars; secrets stay EnvVar references, never values."""
    salt = EnvVar("KLOUT_PSEUDONYM_SALT") if os.getenv("KLOUT_PSEUDONYM_SALT") else None
    return SocialNetworks(
        mode=_env("KLOUT_MODE", "sandbox"),
        base_urls={name: os.environ[base_url_env(name)] for name in APIS if os.getenv(base_url_env(name))},
        tokens={name: EnvVar(token_env(name)) for name in APIS if os.getenv(token_env(name))},
        person_tokens={
            name: EnvVar(spec.person_tokens_env)
            for name, spec in NETWORKS.items()
            if spec.person_tokens_env and os.getenv(spec.person_tokens_env)
        },
        public_accounts=[a for a in _env("KLOUT_PUBLIC_ACCOUNTS", "").split(",") if a],
        lookback_days=int(_env("KLOUT_LOOKBACK_DAYS", "7")),
        fetch_workers=int(_env("KLOUT_FETCH_WORKERS", "8")),
        pseudonym_salt=salt or SocialNetworks.model_fields["pseudonym_salt"].default,
        sandbox_persons=int(_env("KLOUT_SANDBOX_PERSONS", "200")),
        sandbox_seed=int(_env("KLOUT_SANDBOX_SEED", "7")),
        sandbox_preset=_sandbox_preset(),
        sandbox_fault_rate=float(_env("KLOUT_SANDBOX_FAULT_RATE", "0")),
        sandbox_end_date=_env("KLOUT_SANDBOX_END_DATE", ""),
    )


def build_definitions(social: SocialNetworks | None = None) -> Definitions:
    """The warehouse path comes from KLOUT_WAREHOUSE for both DuckDB and dbt (profiles.yml)."""
    return Definitions(
        assets=[
            raw_platform,
            unmeasured_persons,
            raw_networks,
            dbt_models,
            scores_and_influence_graph,
            score_changes_asset,
            leaderboard,
            person_topics,
            kplus,
            topic_leaderboards,
            perk_eligibility,
            privacy_audit,
            serving_snapshot,
            formula_comparison,
        ],
        asset_checks=[*all_gx_checks(), no_unmeasured_person_outside_registry],
        jobs=[daily_job, export_person, erase_person],
        schedules=[daily_schedule],
        # Every step writes or reads the one DuckDB file under a pool of 1, so steps never run in
        # parallel anyway; one process per run saves a start-up (and a GX import per check) per step.
        executor=in_process_executor,
        resources={
            "duckdb": warehouse_resource(),
            "dbt": InProcessDbtResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
            "social": social or social_from_env(),
        },
    )


defs = build_definitions()
