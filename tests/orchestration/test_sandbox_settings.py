"""The sandbox's world comes from env vars: its preset and seed, and a clear error for a bad preset."""

from __future__ import annotations

import pytest

from orchestration.definitions import social_from_env


def test_the_sandbox_world_is_chosen_by_env_vars(monkeypatch):
    monkeypatch.delenv("KLOUT_SANDBOX_PRESET", raising=False)
    monkeypatch.delenv("KLOUT_SANDBOX_SEED", raising=False)
    default = social_from_env()
    assert (default.sandbox_preset, default.sandbox_seed) == ("default", 7)
    monkeypatch.setenv("KLOUT_SANDBOX_PRESET", "adversarial")
    monkeypatch.setenv("KLOUT_SANDBOX_SEED", "1001")
    chosen = social_from_env()
    assert (chosen.sandbox_preset, chosen.sandbox_seed) == ("adversarial", 1001)


def test_a_misspelt_preset_names_the_setting(monkeypatch):
    monkeypatch.setenv("KLOUT_SANDBOX_PRESET", "adversarail")
    with pytest.raises(
        ValueError, match=r"KLOUT_SANDBOX_PRESET='adversarail' is not a sandbox preset: use one of default"
    ):
        social_from_env()
