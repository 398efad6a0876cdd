"""The formula a run scores with: the version's YAML plus the feature knobs dbt declares.

Assets keyed by formula version carry the tag `VERSIONED_TAG`: `rescore` selects them by it.
"""

from __future__ import annotations

from dagster import Config

from domain.formula import Formula, active_version
from domain.formula import load_formula as load_domain_formula

from .dbt_project import feature_knobs

VERSIONED_TAG = {"klout/keyed_by": "formula_version"}


def load_formula(version: str | None = None) -> Formula:
    return load_domain_formula(version, features=feature_knobs())


class FormulaConfig(Config):
    formula_version: str = ""  # empty: the active version (KLOUT_FORMULA_VERSION)

    def formula(self) -> Formula:
        return load_formula(self.formula_version or None)


def versioned(**spec) -> dict:
    """Asset arguments of a table keyed by formula version: the tag, and the active formula's hash
    as code version, so the UI flags the asset when the active formula changes."""
    return {**spec, "tags": {**spec.get("tags", {}), **VERSIONED_TAG}, "code_version": load_formula().content_hash}


__all__ = ["FormulaConfig", "VERSIONED_TAG", "active_version", "load_formula", "versioned"]
