"""The warehouse: where the DuckDB file lives, and every query the Python assets run against it.

Assets never write SQL: they ask `Warehouse` (and `TopicMatchCache`) for frames and hand frames
back to be written. Privacy's SQL is `forgetting.WarehousePrivacy`'s."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from dagster_duckdb import DuckDBResource

from domain.score import EdgeDays

REPO_ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE_ENV = "KLOUT_WAREHOUSE"
ASSETS_MEMORY_ENV = "KLOUT_ASSETS_DUCKDB_MEMORY_LIMIT"


def warehouse_path() -> str:
    path = Path(os.getenv(WAREHOUSE_ENV, REPO_ROOT / "data" / "warehouse.duckdb")).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    # dbt (in the run's process or a subprocess) reads the same variable in profiles.yml, so both always agree.
    os.environ[WAREHOUSE_ENV] = str(path)
    return str(path)


class WarehouseResource(DuckDBResource):
    """`DuckDBResource` with DuckDB's memory capped for the Python assets: uncapped, its buffer pool
    keeps up to 80% of RAM of pages the window's reads touched, beside the assets' own frames (the
    medium daily run peaked at 3.6 GB, 2.8 GB capped at 1 GB). Past the cap DuckDB spills to
    `<warehouse>.tmp`. Set per connection, not in the connect config: a config that differs from an
    open connection's (dbt's, in the same process) is refused."""

    memory_limit: str = "1GB"

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as conn:
            conn.execute("set memory_limit = ?", [self.memory_limit])
            yield conn


def warehouse_resource(database: str | None = None) -> WarehouseResource:
    return WarehouseResource(database=database or warehouse_path(), memory_limit=os.getenv(ASSETS_MEMORY_ENV, "1GB"))


def exports_dir() -> Path:
    """Subject access exports, beside the warehouse (git-ignored with it)."""
    return Path(warehouse_path()).parent / "exports"


def table_exists(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    return bool(
        conn.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
        ).fetchall()[0][0]
    )


def replace_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    *,
    day_column: str,
    days: list[date],
    extra_keys: dict[str, str] | None = None,
) -> int:
    """Atomically replace the rows of `days` (and `extra_keys`, e.g. a formula version) in `table`.

    Re-running a partition therefore gives identical rows, never duplicates.
    """
    schema = table.split(".")[0]
    conn.execute(f"create schema if not exists {schema}")
    exists = table_exists(conn, table)
    if frame.empty and not exists:
        return 0  # an empty frame has no column types to create the table from; the first rows will
    if not frame.empty:
        conn.register("incoming_rows", frame)
    try:
        conn.execute("begin transaction")
        if not exists:
            conn.execute(f"create table {table} as select * from incoming_rows limit 0")
        elif not frame.empty:
            _add_new_columns(conn, table)
        where = [f"{day_column} between ? and ?"]
        params: list = [min(days), max(days)]
        for column, value in (extra_keys or {}).items():
            where.append(f"{column} = ?")
            params.append(value)
        conn.execute(f"delete from {table} where {' and '.join(where)}", params)
        if not frame.empty:
            conn.execute(f"insert into {table} by name select * from incoming_rows")
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise
    finally:
        if not frame.empty:
            conn.unregister("incoming_rows")
    return len(frame)


def _add_new_columns(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Columns the incoming rows have and a table written by an older version lacks (a network
    added since): added, null on the days written before, like dbt's append_new_columns."""
    have = {row[0] for row in conn.execute(f"describe {table}").fetchall()}
    for name, kind, *_ in conn.execute("describe select * from incoming_rows").fetchall():
        if name not in have:
            conn.execute(f'alter table {table} add column "{name}" {kind}')


def read_coded(
    conn: duckdb.DuckDBPyConnection,
    sql: str,
    params: list,
    groups: list[tuple[str, ...]],
    order_by: list[str] | None = None,
) -> pd.DataFrame:
    """The rows of `sql` with each group's varchar columns as categoricals sharing one set of
    categories (the group's sorted distinct values, a null as NaN), numbered here: millions of
    id strings never reach pandas, which reads integer codes several times faster. `order_by`
    names output columns; a coded column orders as its values do (its codes are sorted)."""
    conn.execute(f"create or replace temp table coded_rows as {sql}", params)
    try:
        joins, codes, categories = [], [], {}
        for i, group in enumerate(groups):
            values = " union ".join(f"select {c} as value from coded_rows where {c} is not null" for c in group)
            conn.execute(
                f"create or replace temp table coded_values_{i} as select value, cast(row_number()"
                f" over (order by value) - 1 as integer) as code from (select distinct value from ({values}))"
            )
            for j, column in enumerate(group):
                joins.append(f" left join coded_values_{i} as v{i}_{j} on v{i}_{j}.value = r.{column}")
                codes.append(f"coalesce(v{i}_{j}.code, -1) as {column}")
            found = conn.execute(f"select value from coded_values_{i} order by code").df()["value"]
            categories.update(dict.fromkeys(group, pd.Index(found)))
        order = f" order by {', '.join(order_by)}" if order_by else ""
        coded = conn.execute(
            f"select r.* replace ({', '.join(codes)}) from coded_rows as r{''.join(joins)}{order}"
        ).df()
    finally:
        conn.execute("drop table if exists coded_rows")
        for i in range(len(groups)):
            conn.execute(f"drop table if exists coded_values_{i}")
    for column, found in categories.items():
        coded[column] = pd.Categorical.from_codes(coded[column].to_numpy(), categories=found)
    return coded


# true on one reaction per (reactor, post, day) other than a mention (Warehouse.window_events)
NEW_POST = (
    "coalesce(reaction_type <> 'mention', false) and row_number() over (partition by reactor_person_id,"
    " post_key, event_day, reaction_type = 'mention' order by reaction_type) = 1"
)


def in_transaction(conn: duckdb.DuckDBPyConnection, work) -> None:
    """`work()` in one transaction: all of it, or (it raised) none of it."""
    conn.execute("begin transaction")
    try:
        work()
        conn.execute("commit")
    except Exception:
        conn.execute("rollback")
        raise


def _days_before(day: date, days: int) -> date:
    return day - timedelta(days=days)


class Warehouse:
    """Reads and writes of the Python assets over one connection (one step, one connection)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection):
        self.conn = conn

    # ------------------------------------------------------------------ plumbing
    def read(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return self.conn.execute(sql, params or []).df()

    def read_optional(self, table: str, sql: str, params: list, columns: list[str]) -> pd.DataFrame:
        """`sql` over `table`, or no rows when nothing was ever written to it (an empty first day)."""
        return self.read(sql, params) if table_exists(self.conn, table) else pd.DataFrame(columns=columns)

    def write_days(self, table: str, frame: pd.DataFrame, days: list[date], day_column: str = "day", **keys) -> int:
        return replace_rows(self.conn, table, frame, day_column=day_column, days=days, extra_keys=keys or None)

    def write_versioned(self, table: str, frame: pd.DataFrame, days: list[date], version: str) -> int:
        return self.write_days(table, frame, days, formula_version=version)

    # ------------------------------------------------------------------ people
    def profiles(self) -> pd.DataFrame:
        return self.read("select person_id, birth_date from staging.stg_platform__profiles order by person_id")

    def perk_candidates(self) -> pd.DataFrame:
        return self.read(
            "select person_id, display_name, birth_date, location, opted_out from staging.stg_platform__profiles"
            " where birth_date is not null order by person_id"
        )

    # ------------------------------------------------------------------ scores
    def window_events(self, days: list[date], window_days: int, *, posts: bool = False) -> pd.DataFrame:
        """Engagement events covering the rolling windows of `days` (EngagementEvents sorts them), the
        persons and networks as categoricals (their categories the window's sorted ids and names).

        `posts`: also `new_post`, true on one reaction per (reactor, post, day) other than a mention,
        so summing it counts the post-days a reactor reacted on. Within a day, so a daily run and a
        backfill flag the same rows."""
        new_post = f", {NEW_POST} as new_post" if posts else ""
        return read_coded(
            self.conn,
            "select reactor_person_id, target_person_id, network,"
            f" event_day{new_post} from intermediate.int_engagement_events where event_day between ? and ?",
            [_days_before(days[0], window_days - 1), days[-1]],
            [("reactor_person_id", "target_person_id"), ("network",)],  # its order-free sums make row order moot
        )

    def window_posts(self, days: list[date], window_days: int) -> pd.DataFrame:
        """Posts made per (person, network, day) over the rolling windows of `days`."""
        return self.read(
            "select person_id, network, day, posts_made from marts.fct_engagement_daily"
            " where day between ? and ? and posts_made > 0",
            [_days_before(days[0], window_days - 1), days[-1]],
        )

    def features_on(self, day: date) -> pd.DataFrame:
        return self.read("select * from marts.fct_features_90d where as_of_day = ? order by person_id, network", [day])

    def accepted_kplus(self, days: list[date], window_days: int) -> pd.DataFrame:
        """+K accepted in the windows of `days` (with the giver: v2 discounts +K cliques)."""
        return self.read_optional(
            "marts.kplus_ledger",
            "select recipient_person_id, topic_slug, given_at, giver_person_id from marts.kplus_ledger"
            " where given_day between ? and ? order by all",
            [_days_before(days[0], window_days - 1), days[-1]],
            ["recipient_person_id", "topic_slug", "given_at", "giver_person_id"],
        )

    RANKS = "cache.pagerank_ranks"  # a memo of the scores' PageRank, not a product table

    def pagerank_ranks(self, version: str, day: date) -> pd.Series | None:
        """person_id -> the PageRank stored for `day` (the next day's warm start), or None if never stored."""
        ranks = self.read_optional(
            self.RANKS,
            f"select person_id, rank from {self.RANKS} where formula_version = ? and day = ? order by person_id",
            [version, day],
            ["person_id", "rank"],
        )
        return pd.Series(ranks["rank"].to_numpy(dtype=float), index=ranks["person_id"]) if len(ranks) else None

    def write_pagerank_ranks(self, version: str, day: date, ranks: pd.Series | None) -> None:
        """Keep a day's ranks, so the next day's run (daily or a backfill's first day) starts from
        them just as a backfill's loop does: a backfill and its daily runs give the same bits."""
        frame = pd.DataFrame(
            {"person_id": pd.array([] if ranks is None else ranks.index, dtype="str"), "day": day}
        ).assign(formula_version=version, rank=np.asarray([] if ranks is None else ranks.to_numpy(), dtype=float))
        self.write_versioned(self.RANKS, frame, [day], version)

    def scores_on(self, version: str, day: date) -> pd.DataFrame:
        scores = self.read(
            "select * from marts.scores where formula_version = ? and day = ? order by person_id", [version, day]
        )
        return scores.assign(day=day)  # a date, as written, so a new table gets a DATE column

    def scores_between(self, versions: list[str], first: date, last: date) -> pd.DataFrame:
        rows = self.read(
            "select * from marts.scores where formula_version in (select unnest(?::varchar[]))"
            " and day between ? and ? order by day, person_id",
            [versions, first, last],
        )
        rows["day"] = pd.to_datetime(rows["day"]).dt.date
        return rows

    def leaderboard(self, version: str, days: list[date], size: int) -> pd.DataFrame:
        board = self.read(
            """
            select s.day, s.formula_version,
                   row_number() over (partition by s.day order by s.score desc, s.person_id) as rank,
                   s.person_id, s.score
            from marts.scores as s
            where s.formula_version = ? and s.day between ? and ?
            qualify rank <= ?
            order by s.day, rank
            """,
            [version, days[0], days[-1], size],
        )
        board["day"] = pd.to_datetime(board["day"]).dt.date
        return board

    # ------------------------------------------------------------------ topics and +K
    def reactions_per_post_day(self, since: date, until: date, first: date | None = None) -> pd.DataFrame:
        """post_id, event_day, reactions (mentions aside) for the posts in `window_topic_matches`.
        With `first` (a run's first day), the reactions before it come as one row per post dated the
        day before: a day's topics need only each post's total through that day, so a daily run
        reads one row per post, not one per post and day of its window (the counts are exact)."""
        day = "greatest(e.event_day, ?::date)" if first else "e.event_day"
        return self.read(
            f"select w.post_id, {day} as event_day, count(*) as reactions from intermediate.int_engagement_events"
            f" as e join {MATCHED_POSTS} as w using (post_key)"
            " where e.reaction_type <> 'mention' and e.event_day between ? and ? group by all",
            ([_days_before(first, 1)] if first else []) + [since, until],
        )

    def mentions_of_matched_posts(self, since: date, until: date) -> pd.DataFrame:
        """post_id, person_id (mentioned, a categorical), event_day for the posts in `window_topic_matches`."""
        return read_coded(
            self.conn,
            f"select w.post_id, e.target_person_id as person_id, e.event_day"
            f" from intermediate.int_engagement_events as e join {MATCHED_POSTS} as w using (post_key)"
            " where e.reaction_type = 'mention' and e.event_day between ? and ?",
            [since, until],
            [("person_id",)],
        )

    def topic_edits(self, until: date) -> pd.DataFrame:
        return self.read(
            "select person_id, editor_person_id, topic_slug, action, edited_day from staging.stg_platform__topic_edits"
            " where edited_day <= ? order by edited_at, edit_id",
            [until],
        )

    def kplus_gives_judged(self, days: list[date]) -> pd.DataFrame:
        """The +K gives of `days` in give_id order (given_day a date) with `on_profile`: whether the
        topic was on the recipient's profile on the day of the give, joined here in one pass."""
        span = [days[0], days[-1]]
        # the profiles of the gives' days only: without the bound, a daily run read every day's topics
        on_profile, profile_span = (
            (
                "exists (select 1 from marts.person_topics as t where t.day between ? and ? and t.day = k.given_day"
                " and t.person_id = k.recipient_person_id and t.topic_slug = k.topic_slug)",
                span,
            )
            if table_exists(self.conn, "marts.person_topics")
            else ("false", [])
        )
        gives = self.read(
            "select give_id, giver_person_id, recipient_person_id, topic_slug, given_at, given_day,"
            f" {on_profile} as on_profile from staging.stg_platform__kplus as k"
            " where given_day between ? and ? order by give_id",
            [*profile_span, *span],
        )
        gives["given_day"] = pd.to_datetime(gives["given_day"]).dt.date if len(gives) else pd.Series(dtype=object)
        return gives

    def kplus_history(self, day: date, cooldown_days: int) -> pd.DataFrame | None:
        """Gives accepted on the days a cooldown can reach back to."""
        columns = ["give_id", "giver_person_id", "recipient_person_id", "topic_slug", "given_at"]
        history = self.read_optional(
            "marts.kplus_ledger",
            f"select {', '.join(columns)} from marts.kplus_ledger where given_day between ? and ? order by give_id",
            [_days_before(day, int(cooldown_days) + 1), _days_before(day, 1)],
            columns,
        )
        return history if len(history) else None

    def profile_topics_on(self, day: date, column: str, among: list[str]) -> pd.DataFrame:
        """person_id, topic_slug on the profiles of `day` whose `column` is one of `among`: a day
        has millions of profile topics and the caller needs only a few people's or topics'."""
        if not among:
            return NO_TOPICS
        return self.read_optional(
            "marts.person_topics",
            "select person_id, topic_slug from marts.person_topics"
            f" where day = ? and {column} in (select unnest(?::varchar[])) order by all",
            [day, among],
            ["person_id", "topic_slug"],
        )

    def topic_influence(self, version: str, day: date) -> pd.DataFrame:
        """A person's score shared out over their topics by evidence (their strongest topic gets it all)."""
        return self.read_optional(
            "marts.person_topics",
            """
            select t.person_id, t.topic_slug,
                   s.score * t.evidence / max(t.evidence) over (partition by t.person_id) as topic_score
            from marts.person_topics as t
            join marts.scores as s on s.person_id = t.person_id and s.day = t.day and s.formula_version = ?
            where t.day = ? and t.evidence is not null
            order by all""",
            [version, day],
            ["person_id", "topic_slug", "topic_score"],
        )

    def campaigns(self) -> pd.DataFrame:
        return self.read("select * from staging.stg_platform__campaigns order by campaign_id")

    def day_scores(self, version: str, day: date) -> pd.DataFrame:
        return self.read(
            "select person_id, score from marts.scores where day = ? and formula_version = ? order by person_id",
            [day, version],
        )

    # ------------------------------------------------------------------ landing
    def tracked_handles(self, network: str, day: date) -> set[str]:
        """Handles linked by registered profiles as of `day` (the latest links landed by then)."""
        linked = self.conn.execute(
            """
            select distinct handle from raw.platform_links
            where network = ?
              and partition_day = (select max(partition_day) from raw.platform_links where partition_day <= ?)
            """,
            [network, day],
        ).fetchall()
        return {h for (h,) in linked}

    def landed_account_ids(self, network: str) -> set[str]:
        return {a for (a,) in self.conn.execute(f"select distinct account_id from raw.{network}_accounts").fetchall()}


NO_TOPICS = pd.DataFrame({"person_id": pd.Series(dtype="str"), "topic_slug": pd.Series(dtype="str")})
MATCHED_POSTS = "window_matched_posts"  # post_key, post_id of `window_topic_matches`, made with it


class TopicMatchCache:
    """A post's topic matches depend only on its text and the matcher, so they are kept in
    `cache.post_topic_matches` by text hash (sha256) under the matcher's fingerprint: a daily run
    matches only the texts it has never seen, not its whole 90-day window. Rows under any other
    fingerprint are dropped, so a change of keywords, weights or matching code re-matches."""

    TABLE = "cache.post_topic_matches"  # a memo of person_topics, not a product table
    TEXT_HASH = "sha256(coalesce({}.text, ''))"  # what a post's matches depend on, besides the matcher
    POST_ID = "hash(p.post_key)"  # an integer orders and joins far faster than the key

    def __init__(self, conn: duckdb.DuckDBPyConnection, matcher: str):
        self.conn, self.matcher = conn, matcher
        self.collided = False  # whether the last window numbered its posts by key, two keys sharing a hash

    def window_matches(self, since: date, until: date, match) -> pd.DataFrame:
        """post_id, person_id, post_day, topic_slug, strength for the posts of [since, until] that
        match a topic, ordered, the person and the topic as categoricals (`read_coded`);
        `match(texts)` (text_index, topic_slug, strength) is asked only of texts this matcher has never
        seen. `post_id` is an integer unique per post_key; the rows are also left in the connection as
        temp table `window_topic_matches` (with post_key), their posts as `window_matched_posts`."""
        self.open_window(since, until)
        unseen = self.unseen_texts()
        self.remember(unseen, match(unseen["text"]))
        return self.matches_between()

    def open_window(self, since: date, until: date) -> None:
        """The cache ready for this matcher (made if missing, other matchers' rows dropped), and temp
        table `window_post_hashes`: the posts of [since, until] with their text hash, hashed once for
        both the unseen texts and the matches."""
        self.conn.execute(f"create schema if not exists {self.TABLE.split('.')[0]}")
        self.conn.execute(
            f"create table if not exists {self.TABLE}"
            " (matcher varchar, text_hash varchar, topic_slug varchar, strength double)"
        )
        self.conn.execute(f"delete from {self.TABLE} where matcher <> ?", [self.matcher])
        self.conn.execute(
            f"create or replace temp table window_post_hashes as select post_key, {self.POST_ID} as post_id,"
            f" person_id, post_day, {self.TEXT_HASH.format('p')} as text_hash"
            " from intermediate.int_post_engagement as p where p.post_day between ? and ?",
            [since, until],
        )
        # if two keys ever share a hash, number them by key instead (slower, same result)
        collided = "select count(distinct post_id) <> count(*) from window_post_hashes"  # a row per post_key
        self.collided = bool(self.conn.execute(collided).fetchall()[0][0])
        if self.collided:
            self.conn.execute(
                "create or replace temp table window_post_hashes as select * replace"
                " (cast(dense_rank() over (order by post_key) as ubigint) as post_id) from window_post_hashes"
            )

    def unseen_texts(self) -> pd.DataFrame:
        """text_hash, text of the window's posts never matched under this matcher (a daily run's
        new day, mostly: only they are joined back to their texts)."""
        return self.conn.execute(
            f"""
            with unseen as (
                select post_key, post_day, text_hash from window_post_hashes as w
                where not exists (select 1 from {self.TABLE} as m where m.matcher = ? and m.text_hash = w.text_hash))
            select distinct u.text_hash, coalesce(p.text, '') as text
            from unseen as u join intermediate.int_post_engagement as p using (post_key, post_day)
            where {self.TEXT_HASH.format("p")} = u.text_hash
            order by text_hash""",
            [self.matcher],
        ).df()

    def remember(self, unseen: pd.DataFrame, found: pd.DataFrame) -> None:
        """Keep `found` (text_index, topic_slug, strength over `unseen`), and every unseen text that
        matched nothing as a row with no topic, so it is not matched again."""
        hashes = unseen["text_hash"].to_numpy(dtype=object)
        hit = found["text_index"].to_numpy(dtype=np.int64)
        missed = np.setdiff1d(np.arange(len(unseen)), hit)
        rows = pd.DataFrame(
            {
                "matcher": self.matcher,
                "text_hash": np.concatenate([hashes[hit], hashes[missed]]),
                "topic_slug": pd.array(list(found["topic_slug"]) + [None] * len(missed), dtype="str"),
                "strength": np.concatenate([found["strength"].to_numpy(dtype=float), np.full(len(missed), np.nan)]),
            }
        )
        if not len(rows):
            return
        self.conn.register("new_matches", rows)
        try:
            self.conn.execute(
                f"insert into {self.TABLE} by name select * from new_matches as n where not exists"
                f" (select 1 from {self.TABLE} as m where m.matcher = n.matcher and m.text_hash = n.text_hash)"
            )
        finally:
            self.conn.unregister("new_matches")

    def matches_between(self) -> pd.DataFrame:
        self.conn.execute(
            f"""
            create or replace temp table window_topic_matches as
            select p.post_key, p.post_id, p.person_id, p.post_day, m.topic_slug, m.strength
            from window_post_hashes as p
            join {self.TABLE} as m on m.matcher = ? and m.text_hash = p.text_hash
            where m.topic_slug is not null""",
            [self.matcher],
        )
        self.conn.execute(
            f"create or replace temp table {MATCHED_POSTS} as select p.post_key, p.post_id from window_post_hashes"
            " as p semi join window_topic_matches as m using (post_id)"
        )
        return read_coded(
            self.conn,
            "select post_id, person_id, post_day, topic_slug, strength from window_topic_matches",
            [],
            [("person_id",), ("topic_slug",)],
            order_by=["post_id", "topic_slug"],  # the evidence sums add in this order
        )


class TopicStateStore:
    """person_topics' carried state (domain.topics.TopicState) of its two latest days, in
    `cache.topic_state_*` under a fingerprint of what the evidence depends on (rules, window,
    ontology, matcher): a daily run reads yesterday's key sums and only the posts today touches,
    not the window, and re-running the latest day still finds the day before it. Each row holds
    for the days [first_day, last_day_held], so carrying a day writes only what changed. A memo:
    dropped, the next run reads its whole window and makes it again. So is a state whose tables
    lost rows since it was written (a person forgotten): its sums would keep their posts' terms."""

    META = "cache.topic_state"  # one row per kept day
    TABLES = {
        "cache.topic_state_rows": "post_id ubigint, post_day date, person_id varchar, topic_slug varchar,"
        " strength double, earned double",
        "cache.topic_state_pairs": "post_id ubigint, person_id varchar, last_day date",
        "cache.topic_state_keys": "person_id varchar, topic_slug varchar, limb0 double, limb1 double,"
        " limb2 double, terms bigint",
    }
    ROWS, PAIRS, KEYS = TABLES
    OPEN = date(9999, 12, 31)  # the last day of a row that still holds
    KEPT_DAYS = 2

    def __init__(self, conn: duckdb.DuckDBPyConnection, fingerprint: str):
        self.conn, self.fingerprint = conn, fingerprint
        conn.execute("create schema if not exists cache")
        conn.execute(
            f"create table if not exists {self.META}"
            " (day date, fingerprint varchar, written varchar, seen_through date)"
        )
        for table, columns in self.TABLES.items():
            conn.execute(f"create table if not exists {table} (first_day date, last_day_held date, {columns})")
        kept = conn.execute(f"select fingerprint, written from {self.META}").fetchall()
        if any(f != fingerprint or w != self._sizes() for f, w in kept):
            self._clear()

    def _sizes(self) -> str:
        """The state tables' row counts: kept with each day, to tell a state nobody else touched."""
        counts = " union all ".join(f"select {i} as i, count(*) as n from {t}" for i, t in enumerate(self.TABLES))
        return ",".join(str(n) for _, n in self.conn.execute(f"select * from ({counts}) order by i").fetchall())

    def _hold(self, day: date, seen_through: date | None) -> None:
        self.conn.execute(f"insert into {self.META} values (?, ?, '', ?)", [day, self.fingerprint, seen_through])

    def seen_through(self) -> date | None:
        """The latest landing day of the engagement events now: a state counts the events landed by then."""
        return self.conn.execute("select max(first_seen_day) from intermediate.int_engagement_events").fetchall()[0][0]

    def _written(self) -> None:
        self.conn.execute(f"update {self.META} set written = ?", [self._sizes()])

    def days(self) -> list[date]:
        return sorted(d for (d,) in self.conn.execute(f"select day from {self.META}").fetchall())

    @classmethod
    def drop(cls, conn: duckdb.DuckDBPyConnection) -> None:
        """Forget every kept day, so the next run reads its whole window (the window's past changed)."""
        if table_exists(conn, cls.META):
            conn.execute(f"delete from {cls.META}")

    def _clear(self) -> None:
        for table in (self.META, *self.TABLES):
            self.conn.execute(f"delete from {table}")

    def _held_on(self, day: date) -> str:
        return f"first_day <= '{day.isoformat()}' and last_day_held >= '{day.isoformat()}'"

    def _transaction(self, work) -> None:
        in_transaction(self.conn, work)

    def save(self, states: dict, seen_through: date | None) -> None:
        """Keep `states` ({day: TopicState}, one day or two consecutive, made from the engagement
        events landed through `seen_through`) as the only days held."""
        days = sorted(states)

        def work():
            self._clear()
            for day in days:
                last = day if day != days[-1] else self.OPEN
                for table, frame in zip(self.TABLES, (states[day].rows, states[day].pairs, states[day].keys)):
                    self._insert(table, day, last, frame)
                self._hold(day, seen_through)
            self._written()

        self._transaction(work)

    def _insert(self, table: str, first: date, last: date, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        columns = [c.split()[0] for c in self.TABLES[table].split(",")]
        self.conn.register("state_rows", frame[columns])
        try:
            self.conn.execute(
                f"insert into {table} by name select ?::date as first_day, ?::date as last_day_held, * from state_rows",
                [first, last],
            )
        finally:
            self.conn.unregister("state_rows")

    def today(self, day: date, window: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(reacted: post_id, reactions; mentions: post_id, person_id, event_day) that `day`'s window
        counts and the day before's state did not, on its posts and `window_matched_posts` (`day`'s
        matched posts): the events of `day`, and those of earlier days that landed after the state
        was made (late). Also temp table `touched_posts`: those posts, and the state's posts leaving
        the window."""
        before = day - timedelta(days=1)
        held = self._held_on(before)
        (seen,) = self.conn.execute(f"select seen_through from {self.META} where day = ?", [before]).fetchall()[0]
        self.conn.execute(
            f"""
            create or replace temp table today_events as
            select hash(e.post_key) as post_id, e.reaction_type, e.target_person_id, e.event_day
            from intermediate.int_engagement_events as e
            where e.event_day > ? and e.event_day <= ?
              and (e.event_day = ? or e.first_seen_day > coalesce(?::date, '0001-01-01'::date))
              and hash(e.post_key) in (
                select post_id from {self.ROWS} where {held} union all select post_id from {MATCHED_POSTS})""",
            [_days_before(day, window), day, day, seen],
        )
        leaving = _days_before(day, window)
        self.conn.execute(
            f"""
            create or replace temp table touched_posts as
            select post_id from {self.ROWS} where {held} and post_day <= ?
            union select post_id from {self.PAIRS} where {held} and last_day <= ?
            union select post_id from today_events""",
            [leaving, leaving],
        )
        reacted = self.conn.execute(
            "select post_id, count(*) as reactions from today_events where reaction_type <> 'mention' group by all"
        ).df()
        mentions = self.conn.execute(
            "select post_id, target_person_id as person_id, event_day from today_events where reaction_type = 'mention'"
        ).df()
        return reacted, mentions

    def collides(self, day: date) -> bool:
        """Whether a post of `day` has the id of a post of the day before's state (two keys, one
        hash): the carry would confuse them, so the day is read whole instead."""
        held = self._held_on(day - timedelta(days=1))
        return bool(
            self.conn.execute(
                f"select count(*) from {MATCHED_POSTS} where post_id in (select post_id from {self.ROWS} where {held})"
            ).fetchall()[0][0]
        )

    def touched(self, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The rows and pairs of `touched_posts` in `day`'s state."""
        return tuple(
            self.conn.execute(
                f"select * exclude (first_day, last_day_held) from {table} where {self._held_on(day)}"
                " and post_id in (select post_id from touched_posts) order by all"
            ).df()
            for table in (self.ROWS, self.PAIRS)
        )

    def keys(self, day: date) -> pd.DataFrame:
        return read_coded(
            self.conn,
            f"select * exclude (first_day, last_day_held) from {self.KEYS} where {self._held_on(day)}",
            [],
            [("person_id",), ("topic_slug",)],
        )

    def carry(
        self, day: date, rows: pd.DataFrame, pairs: pd.DataFrame, changed_keys: pd.DataFrame, seen_through: date | None
    ) -> None:
        """Keep `day`'s state: the day before's, with the touched posts' rows and pairs replaced by
        `rows` and `pairs`, and the `changed_keys`' sums (0 terms: gone), made from the events landed
        through `seen_through`. The day before stays held."""
        before = day - timedelta(days=1)

        def work():
            if day in self.days():  # a re-run: forget the day's first run, so the day before is as it was
                for table in self.TABLES:
                    self.conn.execute(f"delete from {table} where first_day = ?", [day])
                    self.conn.execute(
                        f"update {table} set last_day_held = ? where last_day_held = ?", [self.OPEN, before]
                    )
            for table in (self.ROWS, self.PAIRS):
                self.conn.execute(
                    f"update {table} set last_day_held = ? where last_day_held = ?"
                    " and post_id in (select post_id from touched_posts)",
                    [before, self.OPEN],
                )
            self.conn.register("changed_keys", changed_keys[["person_id", "topic_slug"]])
            try:
                self.conn.execute(
                    f"update {self.KEYS} as k set last_day_held = ? from changed_keys as c"
                    " where k.last_day_held = ? and k.person_id = c.person_id and k.topic_slug = c.topic_slug",
                    [before, self.OPEN],
                )
            finally:
                self.conn.unregister("changed_keys")
            for table, frame in zip(self.TABLES, (rows, pairs, changed_keys[changed_keys["terms"] > 0])):
                self._insert(table, day, self.OPEN, frame)
            for table in self.TABLES:
                self.conn.execute(f"delete from {table} where last_day_held < ?", [before])
            self.conn.execute(f"delete from {self.META} where day < ? or day = ?", [before, day])
            self._hold(day, seen_through)
            self._written()

        self._transaction(work)


class EngagementMemo:
    """The engagement events collapsed to one row per (reactor -> target, network, event day)
    (domain.score.EdgeDays), kept per day in `cache.engagement_*` with persons and networks as
    numbers. The scores then read a window as integers, and a daily run collapses only the days
    whose events changed (today's, days reached by late reactions, days a forgotten person left)
    instead of reading and encoding every event of its window. A day is collapsed again whenever its
    events' count or 64-bit checksum differ from those it was collapsed from: it could serve rows
    its events no longer give only if both collided. It holds counts, not weights: no formula knob
    invalidates it."""

    DAYS = "cache.engagement_days"
    ROWS = "cache.engagement_day_rows"
    PERSONS = "cache.engagement_persons"
    NETWORKS = "cache.engagement_networks"
    EVENTS = "intermediate.int_engagement_events"
    TABLES = {
        DAYS: "day date, events bigint, checksum ubigint, rows bigint",
        ROWS: "day date, reactor integer, target integer, network integer, reactions integer,"
        " reactor_reactions integer, posts_reacted integer",
        PERSONS: "number integer, person_id varchar",
        NETWORKS: "number integer, network varchar",
    }
    # what decides a day's rows: the edge, and the post and type that decide new_post
    CHECKSUM = (
        "count(*) as events, bit_xor(hash(reactor_person_id, target_person_id, network, post_key, reaction_type))"
        " as checksum"
    )

    def __init__(self, conn: duckdb.DuckDBPyConnection):
        self.conn = conn
        missing = {t: c for t, c in self.TABLES.items() if not table_exists(conn, t)}
        if missing:  # only then: a read-only connection can still read a memo that holds its days
            conn.execute("create schema if not exists cache")
            for table, columns in missing.items():
                conn.execute(f"create table {table} ({columns})")

    def edge_days(self, first: date, last: date, keep_days: int) -> EdgeDays:
        """The collapsed rows of the event days first..last, collapsing the days not held as their
        events are now; days more than `keep_days` before the latest held are let go (a re-run of
        a day that old collapses them again)."""
        stale = self.stale_days(first, last)
        if stale:
            self._collapse(stale, first, last, keep_days)
        rows = self._read(first, last)
        if rows is None:  # a number without its name: the memo was touched behind its back
            self.clear()
            self._collapse(self.stale_days(first, last), first, last, keep_days)
            rows = self._read(first, last)
        return rows

    def stale_days(self, first: date, last: date) -> list[date]:
        """Days of first..last whose events differ from the ones their held rows were collapsed from."""
        found = self.conn.execute(
            f"""
            with landed as (
                select event_day as day, {self.CHECKSUM} from {self.EVENTS}
                where event_day between $first and $last group by all
            ),
            held_rows as (select day, count(*) as n from {self.ROWS} where day between $first and $last group by all),
            held as (
                select d.*, coalesce(r.n, 0) as n from {self.DAYS} as d left join held_rows as r using (day)
                where d.day between $first and $last
            )
            select day from landed full join held using (day)
            where held.day is null or landed.day is null or landed.events <> held.events
               or landed.checksum <> held.checksum or held.rows <> held.n
            order by day""",
            {"first": first, "last": last},
        ).fetchall()
        return [d for (d,) in found]

    def _collapse(self, days: list[date], first: date, last: date, keep_days: int) -> None:
        """Collapse `days` from the events (in one transaction: a failed run leaves the memo as it was)."""
        try:
            in_transaction(self.conn, lambda: self._collapse_days(days, first, last, keep_days))
        finally:
            self.conn.execute("drop table if exists memo_collapsed")
            self.conn.execute("drop table if exists memo_days")

    def _collapse_days(self, days: list[date], first: date, last: date, keep_days: int) -> None:
        self.conn.execute("create or replace temp table memo_days as select unnest(?::date[]) as day", [days])
        for table in (self.DAYS, self.ROWS):
            self.conn.execute(f"delete from {table} where day in (select day from memo_days)")
        self.conn.execute(
            f"""
            create or replace temp table memo_collapsed as
            with events as (
                select reactor_person_id, target_person_id, network, event_day, {NEW_POST} as new_post
                from {self.EVENTS} where event_day in (select day from memo_days)
            )
            select event_day as day, reactor_person_id, target_person_id, network,
                   count(*)::integer as reactions,
                   (sum(count(*)) over (partition by reactor_person_id, event_day))::integer as reactor_reactions,
                   (count(*) filter (where new_post))::integer as posts_reacted
            from events group by event_day, reactor_person_id, target_person_id, network"""
        )
        self._number(
            self.PERSONS,
            "person_id",
            "select reactor_person_id from memo_collapsed union select target_person_id from memo_collapsed",
        )
        self._number(self.NETWORKS, "network", "select distinct network from memo_collapsed")
        self.conn.execute(
            f"""
            insert into {self.ROWS}
            select c.day, r.number, t.number, n.number, c.reactions, c.reactor_reactions, c.posts_reacted
            from memo_collapsed as c
            join {self.PERSONS} as r on r.person_id = c.reactor_person_id
            join {self.PERSONS} as t on t.person_id = c.target_person_id
            join {self.NETWORKS} as n on n.network = c.network
            order by c.day, c.reactor_person_id, c.target_person_id, c.network  -- so reads need no sort"""
        )
        self.conn.execute(
            f"""
            insert into {self.DAYS}
            select day, e.events, e.checksum, coalesce(r.n, 0) from (
                select event_day as day, {self.CHECKSUM} from {self.EVENTS}
                where event_day in (select day from memo_days) group by all
            ) as e left join (select day, count(*) as n from memo_collapsed group by all) as r using (day)"""
        )
        newest = self.conn.execute(f"select max(day) from {self.DAYS}").fetchall()[0][0]
        if newest is not None:
            cutoff = newest - timedelta(days=keep_days)
            for table in (self.DAYS, self.ROWS):
                self.conn.execute(
                    f"delete from {table} where day < ? and day not between ? and ?", [cutoff, first, last]
                )

    def _number(self, table: str, column: str, names_sql: str) -> None:
        """Give the names `names_sql` selects that `table` has not numbered the next numbers."""
        self.conn.execute(
            f"""
            insert into {table}
            select (select coalesce(max(number), -1) from {table}) + row_number() over (order by name), name
            from ({names_sql}) as found(name)
            where name not in (select {column} from {table})"""
        )

    def _read(self, first: date, last: date) -> EdgeDays | None:
        """The days' rows as stored: each day's in name order, so EngagementEvents needs no sort of
        its rows (it checks, and sorts what is not). None if a row's number has lost its name."""
        rows = self.conn.execute(
            f"""select (day - date '1970-01-01')::bigint as day, reactor, target, network, reactions,
                       reactor_reactions, posts_reacted
                from {self.ROWS} where day between ? and ?""",
            [first, last],
        ).fetchnumpy()
        persons, networks = self._names(self.PERSONS, "person_id"), self._names(self.NETWORKS, "network")
        for names, codes in ((persons, rows["reactor"]), (persons, rows["target"]), (networks, rows["network"])):
            if len(codes) and (codes.max() >= len(names) or pd.isna(names)[codes].any()):
                return None
        return EdgeDays(
            persons=pd.Index(np.where(pd.isna(persons), "", persons), dtype=object),
            networks=pd.Index(np.where(pd.isna(networks), "", networks), dtype=object),
            **{k: rows[k] for k in ("reactor", "target", "network", "day", "reactions", "reactor_reactions")},
            posts_reacted=rows["posts_reacted"],
        )

    def _names(self, table: str, column: str) -> np.ndarray:
        """Each number's name (None where none: forgetting deletes a person's name)."""
        numbered = self.conn.execute(f"select number, {column} from {table}").fetchnumpy()
        names = np.full(int(numbered["number"].max()) + 1 if len(numbered["number"]) else 0, None, dtype=object)
        names[numbered["number"]] = numbered[column]
        return names

    def clear(self) -> None:
        for table in self.TABLES:
            self.conn.execute(f"delete from {table}")
