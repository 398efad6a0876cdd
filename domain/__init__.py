"""Plain functions over DataFrames: scoring, topics, +K, sashes, perks. No Dagster imports here."""
