"""Perk eligibility: each requirement on its own, capacity, and what brands get to see."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.people import adults_on, ages_on
from domain.perks import perk_eligibility

from .oracles import age_on, is_adult

DAY = date(2026, 11, 20)


def campaign(**overrides):
    base = {
        "campaign_id": "c1",
        "brand": "Acme",
        "title": "Acme perk",
        "topics": ["python"],
        "min_score": 40,
        "locations": ["London, United Kingdom"],
        "starts_on": date(2026, 11, 16),
        "ends_on": date(2026, 11, 30),
        "capacity": 10,
    }
    return pd.DataFrame([{**base, **overrides}])


def person(pid="ann", **overrides):
    base = {
        "person_id": pid,
        "display_name": pid.title(),
        "birth_date": date(1990, 5, 1),
        "location": "London, United Kingdom",
        "opted_out": False,
    }
    return {**base, **overrides}


def run(campaigns, persons, scores=None, topics=None, day=DAY):
    persons = pd.DataFrame(persons)
    scores = scores if scores is not None else pd.DataFrame({"person_id": persons["person_id"], "score": 50.0})
    topics = topics if topics is not None else pd.DataFrame({"person_id": persons["person_id"], "topic_slug": "python"})
    return perk_eligibility(campaigns, persons, scores, topics, day)


def eligible(out):
    return out["person_id"].tolist()


def test_a_person_meeting_every_requirement_is_eligible_and_brands_see_no_personal_data():
    out = run(campaign(), [person()])
    assert eligible(out) == ["ann"]
    assert list(out.columns) == ["campaign_id", "person_id", "display_name", "rank", "score"]
    assert out.iloc[0]["display_name"] == "Ann" and out.iloc[0]["rank"] == 1


@pytest.mark.parametrize("day", [date(2026, 11, 15), date(2026, 12, 1)])
def test_outside_the_campaign_window(day):
    assert run(campaign(), [person()], day=day).empty


@pytest.mark.parametrize("day", [date(2026, 11, 16), date(2026, 11, 30)])
def test_window_bounds_are_inclusive(day):
    assert eligible(run(campaign(), [person()], day=day)) == ["ann"]


def test_wrong_topic():
    topics = pd.DataFrame({"person_id": ["ann"], "topic_slug": ["food"]})
    assert run(campaign(), [person()], topics=topics).empty
    assert eligible(run(campaign(topics=["food", "python"]), [person()], topics=topics)) == ["ann"]
    assert eligible(run(campaign(topics=[]), [person()], topics=topics)) == ["ann"]  # no topic requirement


def test_score_too_low():
    scores = pd.DataFrame({"person_id": ["ann", "bob"], "score": [39.9, 40.0]})
    assert eligible(run(campaign(), [person("ann"), person("bob")], scores=scores)) == ["bob"]


def test_unscored_people_are_not_eligible():
    scores = pd.DataFrame({"person_id": ["bob"], "score": [90.0]})
    assert eligible(run(campaign(), [person("ann"), person("bob")], scores=scores)) == ["bob"]


def test_wrong_location():
    assert run(campaign(), [person(location="Paris, France")]).empty
    assert eligible(run(campaign(locations=[]), [person(location="Paris, France")])) == ["ann"]


def test_17_years_364_days_is_too_young_and_the_18th_birthday_is_old_enough():
    assert run(campaign(), [person(birth_date=date(2008, 11, 21))]).empty
    assert eligible(run(campaign(), [person(birth_date=date(2008, 11, 20))])) == ["ann"]


def test_opted_out():
    assert run(campaign(), [person(opted_out=True)]).empty


def test_capacity_keeps_the_top_scores_with_ties_by_person_id():
    people = [person(p) for p in ("dan", "cat", "bob", "ann")]
    scores = pd.DataFrame({"person_id": ["dan", "cat", "bob", "ann"], "score": [90.0, 60.0, 60.0, 50.0]})
    out = run(campaign(capacity=3), people, scores=scores)
    assert eligible(out) == ["dan", "bob", "cat"]
    assert out["rank"].tolist() == [1, 2, 3]


def test_several_campaigns_are_judged_separately():
    both = pd.concat([campaign(), campaign(campaign_id="c2", min_score=80)], ignore_index=True)
    out = run(both, [person()])
    assert out["campaign_id"].tolist() == ["c1"]


def test_leap_day_birthdays():
    born = date(2008, 2, 29)
    assert not is_adult(born, date(2026, 2, 28))
    assert is_adult(born, date(2026, 3, 1))
    assert is_adult(date(2004, 2, 29), date(2022, 3, 1)) and not is_adult(date(2004, 2, 29), date(2022, 2, 28))
    assert is_adult(date(2006, 2, 28), date(2024, 2, 28))  # 18th birthday in a leap year


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 40000))
def test_age_grows_by_one_on_each_birthday(born, offset):
    day = date.fromordinal(born.toordinal() + offset)
    age = age_on(born, day)
    assert 0 <= age <= offset // 365
    assert is_adult(born, day) == (age >= 18)
    if day.year > born.year and not (born.month == 2 and born.day == 29):
        assert age_on(born, born.replace(year=day.year)) == day.year - born.year


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 12, 31))), max_size=30),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)),
)
def test_column_ages_match_one_by_one(births, day):
    ages = ages_on(births, day)
    adults = adults_on(births, day)
    assert len(ages) == len(adults) == len(births)
    for born, age, adult in zip(births, ages, adults):
        if born is None:
            assert np.isnan(age) and not adult
        else:
            assert age == age_on(born, day) and adult == is_adult(born, day)


def test_column_ages_take_duckdb_dates_and_leap_days():
    births = pd.Series(pd.to_datetime(["2008-02-29", "2004-02-29", None]))
    assert adults_on(births, date(2026, 2, 28)).tolist() == [False, True, False]
    assert adults_on(births, date(2026, 3, 1)).tolist() == [True, True, False]
