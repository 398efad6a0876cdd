"""Ages: the one rule behind "minors are never measured" and "perks go to adults only"."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

ADULT_AGE = 18


def ages_on(birth_dates, day: date) -> np.ndarray:
    """Whole years completed on `day`, for a whole column at once (float, NaN where the birth date
    is unknown): a backfill asks this of every person on every day. A person born on 29 February
    completes a year on 1 March in common years. (tests/domain/oracles.py::age_on is the reference.)"""
    born = pd.Series(birth_dates).reset_index(drop=True)
    born = pd.to_datetime(born if len(born) else born.astype("datetime64[s]"))
    month, dom = born.dt.month.to_numpy(dtype=float), born.dt.day.to_numpy(dtype=float)
    birthday_to_come = (month > day.month) | ((month == day.month) & (dom > day.day))
    return day.year - born.dt.year.to_numpy(dtype=float) - birthday_to_come


def adults_on(birth_dates, day: date) -> np.ndarray:
    """18 or older on `day`, for a whole column; an unknown birth date is not an adult."""
    return ages_on(birth_dates, day) >= ADULT_AGE
