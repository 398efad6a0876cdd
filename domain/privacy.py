"""Who may be measured on a given day: one rule for the front door, history and every output.

A person is *unmeasured* when they opted out, are a minor on the day in question, keep a private
account without consenting to its use, or asked to be erased. Unmeasured people are never
fetched, and every row naming them is forgotten, on every past day too.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .people import ADULT_AGE, ages_on

OPTED_OUT, MINOR, PRIVATE, ERASED = "opted_out", "minor", "private_without_consent", "erased"


def minors_on(profiles: pd.DataFrame, day: date) -> set[str]:
    """Persons under 18 on `day` (profiles: person_id, birth_date). Unknown birth dates are not minors."""
    under_age = ages_on(profiles["birth_date"], day) < ADULT_AGE  # NaN (unknown) compares false
    return set(profiles.loc[under_age, "person_id"])


def _flag(profiles: pd.DataFrame, column: str) -> np.ndarray:
    return (
        profiles[column].fillna(False).astype(bool).to_numpy() if column in profiles else np.zeros(len(profiles), bool)
    )


def unmeasured_on(profiles: pd.DataFrame, day: date, erased: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
    """person_id -> why they are not measured on `day`, for the registry's profiles (person_id,
    birth_date, opted_out, is_private, private_consent) plus the persons erased on request.
    The first reason that applies is given: erased, opted out, minor, private without consent."""
    reasons: dict[str, str] = {}
    private = _flag(profiles, "is_private") & ~_flag(profiles, "private_consent")
    for person, is_private in zip(profiles["person_id"], private):
        if is_private:
            reasons[person] = PRIVATE
    for person in minors_on(profiles, day):
        reasons[person] = MINOR
    for person in profiles.loc[_flag(profiles, "opted_out"), "person_id"]:
        reasons[person] = OPTED_OUT
    for person in erased:
        reasons[person] = ERASED
    return reasons
