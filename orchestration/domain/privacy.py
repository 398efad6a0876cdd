"""Who may be scored, ranked or offered perks on a given day."""
from __future__ import annotations

from datetime import date

import pandas as pd

from .perks import is_adult


def minors_on(profiles: pd.DataFrame, day: date) -> set[str]:
    """Persons under 18 on `day` (profiles: person_id, birth_date). Unknown birth dates are not minors."""
    known = profiles.dropna(subset=["birth_date"])
    return {p for p, born in zip(known["person_id"], known["birth_date"]) if not is_adult(pd.Timestamp(born).date(), day)}
