"""The influence formula as one versioned, declarative config."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

FORMULAS_DIR = Path(__file__).parent / "formulas"
EXTRA_FORMULAS_ENV = "KLOUT_FORMULAS_DIR"  # an extra folder of draft versions, searched after the repo's
ACTIVE_FORMULA_ENV = "KLOUT_FORMULA_VERSION"
DEFAULT_VERSION = "v1"


@dataclass(frozen=True)
class Formula:
    version: str
    config: dict[str, Any]
    content_hash: str
    # Window, half-life and selectivity shape the features every version reads, so they are not
    # per version: the caller passes them from where the feature SQL declares them.
    features: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        if name == "features":
            if not self.features:
                raise ValueError(f"formula {self.version}: no feature knobs given (load_formula(..., features=...))")
            return dict(self.features)
        return self.config[name]


@cache
def load_product() -> dict[str, Any]:
    """Product rules outside the score (topic assignment, +K rules, board sizes): not versioned."""
    return yaml.safe_load((FORMULAS_DIR.parent / "product.yaml").read_text())


def _formula_dirs() -> list[Path]:
    extra = os.getenv(EXTRA_FORMULAS_ENV)
    return [FORMULAS_DIR, *([Path(extra)] if extra else [])]


def available_versions() -> list[str]:
    return sorted({p.stem for d in _formula_dirs() for p in d.glob("*.yaml")})


def load_formula(version: str | None = None, features: Mapping[str, Any] | None = None) -> Formula:
    version = version or active_version()
    path = next((d / f"{version}.yaml" for d in _formula_dirs() if (d / f"{version}.yaml").exists()), None)
    if path is None:
        raise ValueError(f"unknown formula version {version!r}; available: {available_versions()}")
    text = path.read_text()
    config = yaml.safe_load(text)
    if config.get("version") != version:
        raise ValueError(f"{path.name} declares version {config.get('version')!r}, expected {version!r}")
    content_hash = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Formula(version=version, config=config, content_hash=content_hash, features=dict(features or {}))


def active_version() -> str:
    return os.getenv(ACTIVE_FORMULA_ENV, DEFAULT_VERSION)
