from datetime import date

from orchestration.schedules import catch_up_window

TODAY = date(2026, 11, 21)


def test_nothing_missed_runs_just_yesterday():
    done = {date(2026, 11, d).isoformat() for d in range(1, 21)} | {date(2026, 10, d).isoformat() for d in range(1, 32)}
    assert catch_up_window(done, TODAY) == (date(2026, 11, 20), date(2026, 11, 20))


def test_missed_days_are_caught_up_in_one_range():
    done = {date(2026, 11, d).isoformat() for d in range(1, 21) if d not in (15, 16)} | {
        date(2026, 10, d).isoformat() for d in range(1, 32)
    }
    assert catch_up_window(done, TODAY) == (date(2026, 11, 15), date(2026, 11, 20))


def test_catch_up_is_bounded_by_the_horizon():
    assert catch_up_window(set(), TODAY, horizon=5) == (date(2026, 11, 16), date(2026, 11, 20))
