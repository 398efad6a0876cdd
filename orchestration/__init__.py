"""The Dagster code location: thin wiring of assets, resources, partitions, schedules and checks."""

import warnings

from dagster import BetaWarning

# backfill_policy is "beta" in 1.13; single-run backfills are the point of this project.
warnings.filterwarnings("ignore", category=BetaWarning)
