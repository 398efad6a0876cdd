"""The Dagster code location: thin wiring of assets, resources, partitions, schedules and checks."""
