"""EngagementMemo: the scores' window read as collapsed rows kept per day. A day's rows are
collapsed again whenever its events changed (late reactions, forgetting, a re-landed day), so the
window it serves always encodes to the bits the events themselves give."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from domain.score import EngagementEvents
from orchestration.formulas import load_formula
from orchestration.warehouse import EngagementMemo, Warehouse

LAST = date(2026, 3, 31)
FIRST = LAST - timedelta(days=9)
FORMULA = load_formula("v2")


def events(seed: int = 3, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    people = np.array([f"p{i}" for i in range(25)] + ["bluesky:anon"])
    reactor, target = rng.choice(people, n), rng.choice(people, n)
    keep = reactor != target
    day = pd.to_datetime(LAST) - pd.to_timedelta(rng.integers(0, 10, n), unit="D")
    frame = pd.DataFrame(
        {
            "network": rng.choice(["mastodon", "bluesky", "x"], n),
            "post_key": [f"post{i}" for i in rng.integers(0, 60, n)],
            "reaction_type": rng.choice(["like", "repost", "reply", "mention"], n),
            "reactor_person_id": reactor,
            "target_person_id": target,
            "event_day": day.date,
        }
    )[keep]
    frame["first_seen_day"] = frame["event_day"]
    return frame.drop_duplicates(["network", "post_key", "reactor_person_id", "reaction_type", "target_person_id"])


@pytest.fixture
def conn():
    with duckdb.connect(":memory:") as conn:
        conn.execute("create schema intermediate")
        conn.register("seed", events())
        conn.execute("create table intermediate.int_engagement_events as select * from seed")
        conn.unregister("seed")
        yield conn


def from_events(conn) -> EngagementEvents:
    """The window encoded from the events themselves: what the memo must give, to the bit."""
    warehouse = Warehouse(conn)
    return EngagementEvents(warehouse.window_events([LAST], 10, posts=True), FORMULA, posts(conn))


def posts(conn) -> pd.DataFrame:
    return pd.DataFrame({"person_id": ["p1"], "network": ["x"], "day": [LAST], "posts_made": [4]})


def from_memo(conn) -> EngagementEvents:
    return EngagementEvents(EngagementMemo(conn).edge_days(FIRST, LAST, keep_days=10), FORMULA, posts(conn))


def same_bits(a: EngagementEvents, b: EngagementEvents) -> bool:
    arrays = [k for k, v in vars(a).items() if isinstance(v, np.ndarray) and v.dtype != object]
    flows_a, flows_b = a.flows(LAST), b.flows(LAST)
    return (
        all(getattr(a, k).tobytes() == getattr(b, k).tobytes() for k in arrays)
        and list(a.persons) == list(b.persons)
        and flows_a.flow.tobytes() == flows_b.flow.tobytes()
    )


def test_a_second_read_collapses_nothing_and_gives_the_events_bits(conn):
    memo = EngagementMemo(conn)
    assert len(memo.stale_days(FIRST, LAST)) == 10
    first = from_memo(conn)
    assert memo.stale_days(FIRST, LAST) == []
    assert same_bits(first, from_events(conn))
    assert same_bits(from_memo(conn), from_events(conn))


def test_late_reactions_collapse_their_day_again(conn):
    from_memo(conn)
    day = LAST - timedelta(days=4)
    conn.execute(
        "insert into intermediate.int_engagement_events values"
        " ('x', 'late', 'like', 'p1', 'p2', ?, ?), ('x', 'late', 'like', 'p9', 'p2', ?, ?)",
        [day, LAST, day, LAST],
    )
    assert EngagementMemo(conn).stale_days(FIRST, LAST) == [day]
    assert same_bits(from_memo(conn), from_events(conn))


def test_a_replaced_event_with_the_same_count_is_seen(conn):
    """A re-landed day with as many events but one changed is still collapsed again (checksum)."""
    from_memo(conn)
    conn.execute(
        "update intermediate.int_engagement_events set reaction_type = 'mention'"
        " where rowid = (select min(rowid) from intermediate.int_engagement_events where reaction_type = 'like')"
    )
    assert len(EngagementMemo(conn).stale_days(FIRST, LAST)) == 1
    assert same_bits(from_memo(conn), from_events(conn))


def test_forgetting_a_person_leaves_no_row_of_theirs(conn):
    """Forgetting deletes their events and their number's name: their days are collapsed again."""
    from_memo(conn)
    conn.execute("delete from intermediate.int_engagement_events where 'p3' in (reactor_person_id, target_person_id)")
    conn.execute(f"delete from {EngagementMemo.PERSONS} where person_id = 'p3'")
    encoded = from_memo(conn)
    assert "p3" not in list(encoded.persons)
    assert same_bits(encoded, from_events(conn))


def test_a_memo_that_lost_rows_or_names_is_made_again(conn):
    from_memo(conn)
    conn.execute(f"delete from {EngagementMemo.ROWS} where rowid = (select min(rowid) from {EngagementMemo.ROWS})")
    assert len(EngagementMemo(conn).stale_days(FIRST, LAST)) == 1
    assert same_bits(from_memo(conn), from_events(conn))
    conn.execute(f"delete from {EngagementMemo.PERSONS} where person_id = 'p4'")  # their rows are still held
    assert same_bits(from_memo(conn), from_events(conn))


def test_days_long_before_the_newest_are_let_go_but_a_re_run_collapses_them_again(conn):
    EngagementMemo(conn).edge_days(FIRST, LAST, keep_days=3)
    held = [d for (d,) in conn.execute(f"select day from {EngagementMemo.DAYS} order by day").fetchall()]
    assert held == [LAST - timedelta(days=i) for i in range(9, -1, -1)]  # the run's own days are kept
    EngagementMemo(conn).edge_days(LAST - timedelta(days=1), LAST, keep_days=3)
    held = [d for (d,) in conn.execute(f"select day from {EngagementMemo.DAYS} order by day").fetchall()]
    assert held == [LAST - timedelta(days=i) for i in range(9, -1, -1)]  # nothing collapsed, nothing let go
    conn.execute("delete from intermediate.int_engagement_events where event_day = ?", [LAST])
    EngagementMemo(conn).edge_days(LAST - timedelta(days=1), LAST, keep_days=3)
    held = [d for (d,) in conn.execute(f"select day from {EngagementMemo.DAYS} order by day").fetchall()]
    assert held == [LAST - timedelta(days=i) for i in range(4, 0, -1)]
    assert same_bits(from_memo(conn), from_events(conn))


def test_a_failed_collapse_leaves_the_memo_as_it_was(conn, monkeypatch):
    from_memo(conn)
    before = conn.execute(f"select * from {EngagementMemo.ROWS} order by all").fetchall()
    conn.execute(
        "insert into intermediate.int_engagement_events values ('x', 'n', 'like', 'p1', 'p2', ?, ?)", [LAST, LAST]
    )

    def broken(self, table, column, names_sql):
        raise RuntimeError("disk full")

    monkeypatch.setattr(EngagementMemo, "_number", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        from_memo(conn)
    assert conn.execute(f"select * from {EngagementMemo.ROWS} order by all").fetchall() == before
    monkeypatch.undo()
    assert same_bits(from_memo(conn), from_events(conn))
