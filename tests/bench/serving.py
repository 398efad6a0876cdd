"""A synthetic serving snapshot of any size, written straight with DuckDB (no pipeline run), and
the profile-page timing the site's target is measured by.

Rows are generated in person order, as the builder writes them, so DuckDB's zone maps let a
`where person_id = ?` read one row group of the big tables (score_history, subscores, influence)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path

NETWORKS = ("mastodon", "bluesky", "x", "youtube")
SUBSCORES = ("reach", "amplification", "network_impact")
SASH_TOP = 10  # top of each topic board with a sash


def fill_snapshot(persons: int, days: int, topics: int, as_of: date, version: str):
    """A `web.snapshot.publish` fill: `persons` people with `days` of history each, ~10 subscore rows,
    5 topics and 10 influence rows each, `topics` topics with leaderboards and +K boards."""

    def fill(conn) -> dict:
        conn.execute(
            f"create temp table ids as select i, 'p' || lpad(i::varchar, 7, '0') as pid from range({persons}) t(i)"
        )
        conn.execute("insert into meta values (?, ?, 'v1', ?, ?)", [version, as_of, days, datetime.now(UTC)])
        conn.execute(
            """create temp table sc as select i, pid, round(1 + 99 * pow(hash(i, 'score') % 1000000 / 1e6, 2), 2) as score,
                      round(((hash(i, 'delta') % 400)::double - 200) / 100, 2) as delta from ids"""
        )
        conn.execute(
            """insert into people select pid, 'Person ' || i, i % 3 <> 0, score, score - delta, delta,
                      row_number() over (order by score desc, pid), lower('person ' || i || ' @user' || i)
               from sc order by pid"""
        )
        conn.execute("insert into leaderboard select rank, person_id, score from people order by rank")
        conn.execute(
            f"""insert into handles select pid, n.network, '@user' || i from ids
                cross join (select unnest({list(NETWORKS[:2])}) as network) n order by pid"""
        )
        conn.execute(
            f"""insert into score_history
                select pid, ?::date - (d::int), greatest(1, least(100, score + ((hash(i, d) % 600)::double - 300) / 100))
                from sc cross join range({days}) r(d) order by pid, d desc""",
            [as_of],
        )
        # 3-4 networks x 3 subscores (~10 rows); points share the score
        conn.execute(
            f"""insert into subscores
                with parts as (
                  select pid, score, n.network, s.subscore, 0.1 + (hash(i, n.network, s.subscore) % 1000) / 1000.0 as w
                  from sc cross join (select unnest({list(NETWORKS)}) as network) n
                  cross join (select unnest({list(SUBSCORES)}) as subscore) s
                  where n.network <> 'youtube' or i % 2 = 0)
                select pid, network, subscore, w, score * w / sum(w) over (partition by pid) from parts order by pid"""
        )
        conn.execute(
            f"""insert into score_reasons
                select pid, k + 1, {list(NETWORKS)}[1 + (hash(i, k) % 3)::int], {list(SUBSCORES)}[1 + (hash(i, k, 's') % 3)::int],
                       ((hash(i, k, 'p') % 300)::double - 150) / 100
                from ids cross join range(3) r(k) order by pid, k"""
        )
        conn.execute(
            f"""insert into topics select 't' || k, 'Topic ' || k from range({topics}) r(k);
                insert into topic_edges select 't' || (k // 10), 't' || k from range(10, {topics}) r(k)"""
        )
        conn.execute(
            f"""create temp table pt as
                select pid, 't' || ((hash(i) + k * 37) % {topics}) as topic_slug, (hash(i, k) % 1000) / 100.0 as evidence,
                       k + 1 as person_rank, (hash(i, k, 'k') % 20)::bigint as kplus
                from ids cross join range(5) r(k)"""
        )
        conn.execute(
            """insert into person_topics select pid, topic_slug, evidence, false, person_rank, kplus from pt order by pid"""
        )
        conn.execute(
            f"""insert into topic_leaderboards
                select topic_slug, pid, evidence, kplus, ri, rk,
                       case when ri <= {SASH_TOP} and rk <= {SASH_TOP} then 'blue_and_gold'
                            when ri <= {SASH_TOP} then 'gold' when rk <= {SASH_TOP} then 'blue' end
                from (select *, row_number() over (partition by topic_slug order by evidence desc, pid) as ri,
                             row_number() over (partition by topic_slug order by kplus desc, pid) as rk from pt)
                order by topic_slug, ri"""
        )
        conn.execute(
            """insert into topic_kplus select topic_slug, person_id, kplus_count, rank_kplus from topic_leaderboards
               where rank_kplus <= 100 order by topic_slug, rank_kplus"""
        )
        conn.execute(
            f"""insert into influence
                select a.pid, case when k < 5 then 'influences' else 'influenced_by' end, k % 5 + 1,
                       'p' || lpad(((a.i + 1 + hash(a.i, k) % ({persons} - 1)) % {persons})::varchar, 7, '0'),
                       1.0 / (k % 5 + 1)
                from ids a cross join range(10) r(k) order by a.pid, k"""
        )
        conn.execute(
            """insert into perks select 'c' || k, 'Brand ' || k, 'Perk ' || k, ['t' || k], 30, ['Paris'],
                      ?::date - 10, ?::date + 10, 100, true, 50 + k from range(20) r(k)""",
            [as_of, as_of],
        )
        return {"as_of": as_of, "formula_version": "v1"}

    return fill


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def time_profiles(directory: Path, persons: int, requests: int, seed: int = 7) -> dict:
    """`requests` profile pages of random people through the app's TestClient (in process, so the
    time is the app's: routing, queries, templates), after a short untimed warm-up."""
    import random

    from fastapi.testclient import TestClient

    from web.app import create_app

    client = TestClient(create_app(directory))
    rng = random.Random(seed)
    pick = lambda: f"p{rng.randrange(persons):07d}"  # noqa: E731
    for _ in range(20):
        assert client.get(f"/people/{pick()}").status_code == 200
    out = {}
    for label, path in (("profile", "/people/{}"), ("api_person", "/api/v1/people/{}")):
        times = []
        for _ in range(requests if label == "profile" else max(1, requests // 5)):
            url = path.format(pick())
            t0 = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise RuntimeError(f"{url}: {r.status_code}")
        out[label] = {
            "requests": len(times),
            "p50_ms": round(percentile(times, 0.50), 2),
            "p95_ms": round(percentile(times, 0.95), 2),
            "p99_ms": round(percentile(times, 0.99), 2),
            "max_ms": round(max(times), 2),
        }
    return out
