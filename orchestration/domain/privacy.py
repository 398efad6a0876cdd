"""Who may be scored, ranked or offered perks on a given day."""
from __future__ import annotations

from datetime import date

import pandas as pd

from .perks import ADULT_AGE, ages_on


def minors_on(profiles: pd.DataFrame, day: date) -> set[str]:
    """Persons under 18 on `day` (profiles: person_id, birth_date). Unknown birth dates are not minors."""
    under_age = ages_on(profiles["birth_date"], day) < ADULT_AGE  # NaN (unknown) compares false
    return set(profiles.loc[under_age, "person_id"])
