"""Benchmark stages, each run in its own child process so its peak RSS is its own.

`run_child(...)` starts `python -m tests.bench.stages <stage> <args.json> <out.json>` (or the dbt
CLI) and reaps it with `os.wait4`, which returns that child's own `ru_maxrss` (the child and the
descendants it waited for), so stages never inherit each other's high-water mark.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DBT = str(Path(sys.executable).parent / "dbt")
NETWORKS = ("mastodon", "bluesky")  # the scale world is written straight into these two networks' raw tables


class StageStopped(RuntimeError):
    """A stage killed at its deadline: how long it had run and its peak RSS until then."""

    def __init__(self, what: str, wall_s: float, peak_rss_mb: float):
        super().__init__(f"{what} stopped at its deadline after {wall_s:.0f}s")
        self.what, self.wall_s, self.peak_rss_mb = what, round(wall_s, 3), round(peak_rss_mb, 1)


def _run(
    what: str, cmd: list[str], log_file: Path, env=None, deadline: float | None = None
) -> tuple[float, float, str]:
    """Run `cmd` (output to `log_file`) and reap it with `os.wait4`, so its peak RSS is its own; past
    `deadline` (a `time.monotonic()` instant) its whole process group is killed and `StageStopped`
    raised. Returns (wall s, peak RSS MiB, the output's tail); a non-zero exit raises with that tail."""
    t0 = time.monotonic()
    with open(log_file, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG if deadline else 0)
        if pid:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            raise StageStopped(what, time.monotonic() - t0, usage.ru_maxrss / 1024.0)
        time.sleep(0.1)
    wall, rss = time.monotonic() - t0, usage.ru_maxrss / 1024.0  # Linux: KiB -> MiB
    tail = log_file.read_bytes()[-4000:].decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"{what} failed ({code}):\n{tail}")
    return wall, rss, tail


def run_child(stage: str, args: dict, workdir: Path, deadline: float | None = None) -> dict:
    """Run one in-process stage in a fresh interpreter; returns its result plus wall and peak RSS."""
    workdir.mkdir(parents=True, exist_ok=True)
    arg_file, out_file = workdir / f"{stage}.args.json", workdir / f"{stage}.out.json"
    arg_file.write_text(json.dumps(args, default=str))
    out_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "tests.bench.stages", stage, str(arg_file), str(out_file)]
    wall, rss, _ = _run(f"stage {stage}", cmd, workdir / f"{stage}.log", deadline=deadline)
    result = json.loads(out_file.read_text())
    result.update(process_wall_s=round(wall, 3), peak_rss_mb=round(rss, 1))
    return result


def run_dbt(
    warehouse: str, first: date, last: date, workdir: Path, command: str = "build", deadline: float | None = None
) -> dict:
    """One dbt invocation over [first, last], as the Dagster dbt asset runs it (`dbt build --vars`).

    The target path is shared by a bench run (`<run dir>/dbt_target`) so partial parsing works as it
    does for the Dagster dbt resource; it is never `dbt_project/target` (other users' runs).
    """
    target = workdir.parent / "dbt_target" if workdir.name != "dbt_target" else workdir
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "KLOUT_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }
    cmd = [
        DBT,
        command,
        "--vars",
        json.dumps({"min_date": first.isoformat(), "max_date": last.isoformat()}),
        "--profiles-dir",
        "dbt_project",
        "--project-dir",
        "dbt_project",
        "--target-path",
        str(target),
        "--log-path",
        str(workdir.parent / "dbt_logs"),
        "--quiet",
    ]
    wall, rss, _ = _run(f"dbt {command}", cmd, workdir / f"dbt_{command}.log", env=env, deadline=deadline)
    nodes = json.loads((target / "run_results.json").read_text())["results"]
    per_node = {}
    for node in nodes:
        name = node["unique_id"].split(".", 2)[-1]
        per_node[name] = round(node["execution_time"], 3)
    models = {
        k: v
        for k, v in per_node.items()
        if not k.startswith(("unique", "not_null", "accepted", "expression", "relationships", "unique_combination"))
        and "." not in k
    }
    return {
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(rss, 1),
        "nodes": len(nodes),
        "node_time_s": round(sum(per_node.values()), 3),
        "model_time_s": {k: v for k, v in sorted(models.items(), key=lambda kv: -kv[1])},
        "test_time_s": round(sum(v for k, v in per_node.items() if k not in models), 3),
        "slowest_nodes": sorted(per_node.items(), key=lambda kv: -kv[1])[:6],
    }


def _dbt_common_args(target: str, log_path: str) -> list[str]:
    return [
        "--profiles-dir",
        str(ROOT / "dbt_project"),
        "--project-dir",
        str(ROOT / "dbt_project"),
        "--target-path",
        target,
        "--log-path",
        log_path,
        "--quiet",
    ]


def parse_mode(log_dir: Path) -> str:
    """How dbt parsed, from its debug log: `full` (and why), `partial`, or `none` (no parse logged)."""
    text = "\n".join(p.read_text(errors="replace") for p in log_dir.glob("dbt.log*"))
    if "Unable to do partial parsing because" in text:
        return "full: " + text.split("Unable to do partial parsing because", 1)[1].splitlines()[0].strip()
    return "partial" if "Partial parsing enabled" in text else "none"


def run_dbt_cli(warehouse: str, args: list[str], target: Path, log_dir: Path) -> dict:
    """One dbt CLI subprocess (`dbt <args>`) with its own target and log directories; wall, peak RSS
    and how it parsed (see `parse_mode`)."""
    env = {
        **os.environ,
        "KLOUT_WAREHOUSE": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    for old in log_dir.glob("dbt.log*"):
        old.unlink()
    cmd = [DBT, *args, *_dbt_common_args(str(target), str(log_dir))]
    wall, rss, _ = _run(f"dbt {' '.join(args)}", cmd, log_dir / "dbt_cli.out", env=env)
    return {"wall_s": round(wall, 3), "peak_rss_mb": round(rss, 1), "parse": parse_mode(log_dir)}


# ---------------------------------------------------------------------------------------------
# in-process stages (run in the child)

ASSET_RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def downstream_asset_keys(defs) -> list:
    """The daily job's assets downstream of dbt: everything in `daily_influence` except the raw
    landing assets, the dbt models and the privacy group (the forgetting belongs to landing; the
    whole-warehouse audit is not benched yet), resolved by asset KEY (op names may change)."""
    from dagster import AssetSelection

    from orchestration.assets.dbt import dbt_models
    from orchestration.definitions import daily_job
    from orchestration.keys import PRIVACY_GROUP, RAW_GROUP

    selection = (
        daily_job.selection - AssetSelection.groups(RAW_GROUP, PRIVACY_GROUP) - AssetSelection.assets(dbt_models)
    )
    return sorted(selection.resolve(defs.resolve_asset_graph()), key=lambda k: k.to_user_string())


def versioned_keys_ops(defs, keys: list) -> tuple[list, list[str]]:
    """Of `keys`, those keyed by formula version, and their ops (orchestration/cli.py `versioned_ops`,
    on these definitions): what `make rescore VERSION=...` backfills, with the version as op config."""
    from orchestration.cli import versioned_selection

    graph = defs.resolve_asset_graph()
    versioned = [k for k in keys if k in versioned_selection().resolve(graph)]
    return versioned, sorted({graph.get(k).assets_def.node_def.name for k in versioned})


def stage_assets(args: dict) -> dict:
    """The real Dagster assets downstream of dbt (scores, score changes, leaderboard, influence graph,
    topics, +K, topic leaderboards, perks), materialised in-process as ONE run over [first, last]: the
    single-run backfill the CLI and the UI launch (partition-range tags), on the code location's warehouse
    resource on the bench warehouse. Asset checks are left out (the `gx` stage measures them). With `formula_version`,
    only the versioned tables, scored by that version (a rescore beside the active one)."""
    os.environ["KLOUT_WAREHOUSE"] = args["warehouse"]  # what dbt and warehouse_path() would read
    t0 = time.perf_counter()
    from dagster import DagsterInstance

    from orchestration.definitions import build_definitions
    from orchestration.warehouse import warehouse_resource

    defs = build_definitions()
    keys = downstream_asset_keys(defs)
    run_config: dict = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    if args.get("formula_version"):  # `make rescore`'s run: the versioned tables only, each op given the version
        keys, ops = versioned_keys_ops(defs, keys)
        run_config["ops"] = {op: {"config": {"formula_version": args["formula_version"]}} for op in ops}
    job = defs.resolve_job_def("daily_influence").get_subset(asset_selection=set(keys), asset_check_selection=set())
    t_setup = time.perf_counter()
    result = job.execute_in_process(
        run_config=run_config,
        instance=DagsterInstance.ephemeral(),
        resources={"duckdb": warehouse_resource(args["warehouse"])},  # what the code location uses
        tags=dict(zip(ASSET_RANGE_TAGS, (args["first"], args["last"]))),
        raise_on_error=True,
    )
    t_run = time.perf_counter()
    step_assets: dict[str, list[str]] = {}
    rows: dict[str, int] = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        key = mat.asset_key.to_user_string()
        if key not in step_assets.setdefault(event.step_key, []):
            step_assets[event.step_key].append(key)
            value = (mat.metadata or {}).get("rows")
            if value is not None:
                rows[key] = int(getattr(value, "value", value))
    steps = []
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS":
            steps.append(
                {
                    "step": event.step_key,
                    "assets": sorted(step_assets.get(event.step_key, [])),
                    "seconds": round(event.event_specific_data.duration_ms / 1000, 3),
                }
            )
    in_steps = sum(st["seconds"] for st in steps)
    return {
        "wall_s": round(t_run - t_setup, 3),
        "setup_s": round(t_setup - t0, 3),
        "steps_s": round(in_steps, 3),
        "run_overhead_s": round(t_run - t_setup - in_steps, 3),
        "selected": [k.to_user_string() for k in keys],
        "steps": steps,
        "rows": rows,
        "days": (date.fromisoformat(args["last"]) - date.fromisoformat(args["first"])).days + 1,
    }


def stage_gx(args: dict) -> dict:
    """Every GX suite on the partition window [first, last], exactly as orchestration/checks.py runs each
    `@asset_check` (`validate_partition(database, suite, days)`), in one process as the in-process
    executor runs a job's checks. A run worker has loaded the code location (dagster, pandas, scipy,
    ...) before its first check, so that is loaded first, untimed; then the GX import and context
    start-up are timed apart from the suites. The checks' cost is start-up + suites."""
    t_pre = time.perf_counter()
    if args.get("preload", True):
        os.environ["KLOUT_WAREHOUSE"] = args["warehouse"]
        import orchestration.definitions  # noqa: F401 - what the run worker has imported already
    t0 = time.perf_counter()
    from expectations import runner

    first, last = date.fromisoformat(args["first"]), date.fromisoformat(args["last"])
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    import great_expectations  # noqa: F401 - the import is part of the start-up cost

    if hasattr(runner, "_context"):
        runner._context()
    t_start = time.perf_counter()
    suites = {}
    for name in runner.suite_names():
        s = time.perf_counter()
        res = runner.validate_partition(args["warehouse"], name, days)
        suites[name] = {
            "seconds": round(time.perf_counter() - s, 3),
            "table": res.suite.table,
            "rows": res.rows,
            "expectations": res.evaluated,
            "passed": res.success,
            "severity": None if res.success else res.severity,
            "failures": [f.message[:500] for f in res.failures],
        }
    t_end = time.perf_counter()
    return {
        "wall_s": round(t_end - t0, 3),
        "preload_s": round(t0 - t_pre, 3),
        "startup_s": round(t_start - t0, 3),
        "suites_s": round(t_end - t_start, 3),
        "suites": suites,
        "passed": sum(v["passed"] for v in suites.values()),
        "failed": sum(not v["passed"] for v in suites.values()),
        "days": len(days),
    }


def _reaction_union(columns: str) -> str:
    return " union all ".join(f"select {columns} from raw.{n}_reactions" for n in NETWORKS)


def stage_bare_scan(args: dict) -> dict:
    """Lower bound: one DuckDB scan + group-by of raw reactions: count and distinct reactors per target per day."""
    import duckdb

    with duckdb.connect(args["warehouse"], read_only=True) as conn:
        t0 = time.perf_counter()
        rows = conn.execute(
            f"""
            select target_account_id, day, count(*) as reactions, count(distinct reactor_account_id) as reactors
            from ({_reaction_union("target_account_id, reactor_account_id, coalesce(cast(timezone('UTC', reacted_at) as date), partition_day) as day, partition_day")})
            where partition_day between ? and ?
            group by all""",
            [args["first"], args["last"]],
        ).fetchall()
        wall = time.perf_counter() - t0
    return {"wall_s": round(wall, 4), "groups": len(rows)}


def stage_pandas_peer(args: dict) -> dict:
    """The peer: the same facts and features as a user would write them in a pandas notebook.

    Daily facts (reactions, distinct reactors per target person x network x day) for the days in
    [first, last], and for each of those as-of days the 90-day distinct reactors and decayed reactions.
    Includes loading the raw tables into pandas (the notebook has to as well).
    """
    import duckdb
    import numpy as np
    import pandas as pd

    first, last = pd.Timestamp(args["first"]), pd.Timestamp(args["last"])
    lo = first - pd.Timedelta(days=89)
    t0 = time.perf_counter()
    with duckdb.connect(args["warehouse"], read_only=True) as conn:
        reactions = pd.concat(
            [
                conn.execute(
                    f"select * exclude (payload) from raw.{n}_reactions where partition_day between ? and ?",
                    [lo.date(), last.date()],
                ).df()
                for n in NETWORKS
            ],
            ignore_index=True,
        )
        accounts = pd.concat(
            [conn.execute(f"select distinct network, account_id, handle from raw.{n}_accounts").df() for n in NETWORKS],
            ignore_index=True,
        )
        links = conn.execute("select person_id, network, handle from raw.platform_links").df()
    t_load = time.perf_counter()
    reactions = reactions.sort_values(["partition_day", "fetched_at"]).drop_duplicates(
        ["network", "post_id", "reactor_account_id", "reaction_type", "target_account_id"]
    )
    reacted = pd.to_datetime(reactions["reacted_at"], utc=True).dt.tz_localize(None).dt.normalize()
    reactions["event_day"] = reacted.fillna(pd.to_datetime(reactions["partition_day"]))
    accounts["handle"] = accounts["handle"].str.lower()
    links["handle"] = links["handle"].str.lower()
    who = accounts.merge(links, on=["network", "handle"], how="left")
    who["person"] = who["person_id"].fillna(who["network"] + ":" + who["account_id"])
    who = who.drop_duplicates(["network", "account_id"]).set_index(["network", "account_id"])["person"]
    key = lambda col: pd.MultiIndex.from_arrays([reactions["network"], reactions[col]])  # noqa: E731
    reactions["reactor"] = who.reindex(key("reactor_account_id")).to_numpy()
    reactions["target"] = who.reindex(key("target_account_id")).to_numpy()
    reactions["reactor"] = reactions["reactor"].fillna(reactions["network"] + ":" + reactions["reactor_account_id"])
    reactions["target"] = reactions["target"].fillna(reactions["network"] + ":" + reactions["target_account_id"])
    events = reactions[reactions["reactor"] != reactions["target"]]
    in_days = events[(events["event_day"] >= first) & (events["event_day"] <= last)]
    daily = (
        in_days.groupby(["target", "network", "event_day"])
        .agg(reactions=("reactor", "size"), unique_reactors=("reactor", "nunique"))
        .reset_index()
    )
    features = []
    for as_of in pd.date_range(first, last):
        win = events[(events["event_day"] > as_of - pd.Timedelta(days=90)) & (events["event_day"] <= as_of)]
        age = (as_of - win["event_day"]).dt.days.to_numpy()
        f = (
            win.assign(decayed=np.power(0.5, age / 30.0))
            .groupby(["target", "network"])
            .agg(
                engaged_audience_90d=("reactor", "nunique"),
                decayed_reactions=("decayed", "sum"),
                reactions_90d=("reactor", "size"),
            )
            .reset_index()
        )
        f["as_of_day"] = as_of
        features.append(f)
    features = pd.concat(features, ignore_index=True)
    t_end = time.perf_counter()
    return {
        "wall_s": round(t_end - t0, 3),
        "load_s": round(t_load - t0, 3),
        "compute_s": round(t_end - t_load, 3),
        "daily_rows": len(daily),
        "feature_rows": len(features),
    }


def stage_network(args: dict) -> dict:
    """network_influence on a random power-law graph (string person ids, as in production)."""
    import numpy as np
    import pandas as pd

    from orchestration.formulas import load_formula
    from tests.domain.oracles import network_influence

    n, m = int(args["nodes"]), int(args["edges"])
    rng = np.random.default_rng(11)
    ids = pd.Series(np.arange(n)).map("p{:07d}".format).to_numpy(dtype=object)
    # Zipf-like popularity: in-degree heavy-tailed (authors), out-degree milder (reactors).
    pop_in = 1.0 / np.arange(1, n + 1) ** 1.0
    pop_out = 1.0 / np.arange(1, n + 1) ** 0.5
    dst = rng.choice(n, size=m, p=pop_in / pop_in.sum())
    src = rng.choice(n, size=m, p=pop_out / pop_out.sum())
    src = rng.permutation(n)[src]  # decorrelate the hubs of both sides
    keep = src != dst
    edges = pd.DataFrame(
        {
            "reactor_person_id": ids[src[keep]],
            "target_person_id": ids[dst[keep]],
            "network": np.where(rng.random(keep.sum()) < 0.5, "mastodon", "bluesky"),
            "weight": rng.random(keep.sum()) + 0.01,
        }
    )
    ni = load_formula().section("network_influence")
    t0 = time.perf_counter()
    flows, rank = network_influence(edges, ni["damping"], ni["tolerance"], ni["max_iterations"])
    wall = time.perf_counter() - t0
    return {"wall_s": round(wall, 3), "nodes": int(len(rank)), "edges": int(len(edges)), "flow_rows": len(flows)}


def stage_generate(args: dict) -> dict:
    from tests.bench.worldgen import BenchWorld, write_world

    spec = BenchWorld(
        persons=int(args["persons"]),
        days=int(args["days"]),
        posts_per_day=float(args["posts_per_day"]),
        end_date=date.fromisoformat(args["end_date"]),
        preset=args.get("preset", "default"),
    )
    counts = write_world(args["warehouse"], spec, log=lambda *_: None, truth_dir=args.get("truth_dir"))
    return {"wall_s": counts["seconds"], **counts}


def stage_validity(args: dict) -> dict:
    """Validity (tests/bench/validity.py) on a built bench warehouse and its world's truth files (none
    for an imported log: no ability, no bots or rings known)."""
    import pandas as pd

    from tests.bench.validity import NO_TRUTH, measure
    from tests.bench.worldgen import TRUTH_FILE

    t0 = time.perf_counter()
    truth = pd.read_parquet(Path(args["truth_dir"]) / TRUTH_FILE) if args.get("truth_dir") else NO_TRUTH
    first, last = date.fromisoformat(args["first"]), date.fromisoformat(args["last"])
    result = measure(args["warehouse"], truth, first, last, list(args["versions"]))
    return {"wall_s": round(time.perf_counter() - t0, 3), **result}


def stage_import_log(args: dict) -> dict:
    """A fresh warehouse holding one interaction log, landed by the bulk importer (`make import`)
    beside empty tables for the API networks, so the dbt project builds over it unchanged. Its days run
    from the first partition to the last post's day (reactions trail the last posts by a few days:
    scoring those days would score only the few people still reacted to)."""
    import duckdb

    from connectors.landing import ensure_raw_tables
    from orchestration.imports import import_file
    from sandbox.dialects import network_names

    t0 = time.perf_counter()
    with duckdb.connect(args["warehouse"]) as conn:
        ensure_raw_tables(conn, network_names())
        report = import_file(conn, args["file"])
        first, last, posts = conn.execute(
            "select min(partition_day), max(cast(timezone('UTC', posted_at) as date)), count(distinct (network, post_id))"
            " from raw.import_interactions"
        ).fetchall()[0]
    return {
        "wall_s": round(time.perf_counter() - t0, 3),
        "rows": report.rows,
        "landed": report.landed_rows,
        "rejected": report.rejected_rows,
        "first": str(first),
        "last": str(last),
        "posts": posts,
    }


def stage_serve(args: dict) -> dict:
    """The site: a synthetic serving snapshot (persons x days of history), then profile pages of
    random people timed through the app (target: p95 <= 50 ms on medium)."""
    from tests.bench.serving import fill_snapshot, time_profiles
    from web.snapshot import publish

    persons, days = int(args["persons"]), int(args["days"])
    directory = Path(args["directory"])
    t0 = time.perf_counter()
    published = publish(
        directory,
        f"bench-{persons}-{days}",
        fill_snapshot(persons, days, int(args["topics"]), date.fromisoformat(args["as_of"]), f"bench-{persons}-{days}"),
    )
    t_built = time.perf_counter()
    timings = time_profiles(directory, persons, int(args["requests"]))
    return {
        "wall_s": round(time.perf_counter() - t0, 3),
        "build_s": round(t_built - t0, 3),
        "snapshot_mb": round(published.path.stat().st_size / 1e6, 1),
        "persons": persons,
        "history_rows": persons * days,
        "topics": int(args["topics"]),
        **timings,
    }


def compiled_window(target: Path) -> tuple[str, str] | None:
    """The (min_date, max_date) a build's compiled `replace_window` pre-hook deleted, read back from
    run_results.json: proof that an invocation ran on ITS window, not the one a manifest was parsed with."""
    import re

    for node in json.loads((target / "run_results.json").read_text())["results"]:
        if node["unique_id"] == "model.open_klout.fct_engagement_daily":
            code = node.get("compiled_code") or ""
            break
    else:
        return None
    days = re.findall(r"cast\('(\d{4}-\d{2}-\d{2})' as date\)", code)
    return (min(days), max(days)) if days else None


def stage_dbt_inprocess(args: dict) -> dict:
    """dbt's programmatic runner in this process: one parse (dbt's partial parse of the project-default
    vars), then one `build --vars` per day on that same `Manifest` (`dbtRunner(manifest=...)`), timed
    each: what an invocation costs once dbt is imported and the project parsed."""
    os.environ["KLOUT_WAREHOUSE"] = args["warehouse"]
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
    t0 = time.perf_counter()
    from dbt.cli.main import dbtRunner

    t_import = time.perf_counter()
    target = Path(args["target"])
    common = _dbt_common_args(str(target), args["log_path"])
    parsed = dbtRunner().invoke(["parse", *common])
    if not parsed.success:
        raise RuntimeError(f"dbt parse failed: {parsed.exception}")
    manifest = parsed.result
    t_parse = time.perf_counter()
    runs = []
    for day in args["days"]:
        s = time.perf_counter()
        res = dbtRunner(manifest=manifest).invoke(
            ["build", "--vars", json.dumps({"min_date": day, "max_date": day}), *common]
        )
        wall = time.perf_counter() - s
        if not res.success:
            raise RuntimeError(f"dbt build {day} failed: {res.exception}")
        runs.append(
            {
                "day": day,
                "wall_s": round(wall, 3),
                "nodes": len(res.result.results),
                "window": compiled_window(target),
            }
        )
    # the dbt asset's own path: InProcessDbtResource.cli (its manifest parsed once, dagster-dbt reading the events)
    from orchestration.dbt_inprocess import InProcessDbtResource
    from orchestration.dbt_project import dbt_executable, dbt_project

    resource = InProcessDbtResource(project_dir=dbt_project, dbt_executable=dbt_executable())
    resource_runs = []
    for i, day in enumerate(args["days"]):
        s = time.perf_counter()
        invocation = resource.cli(
            ["build", "--vars", json.dumps({"min_date": day, "max_date": day})],
            target_path=target.parent / f"resource_{i}",
        ).wait()
        wall = time.perf_counter() - s
        resource_runs.append(
            {
                "day": day,
                "wall_s": round(wall, 3),
                "nodes": len(invocation.get_artifact("run_results.json")["results"]),
                "window": compiled_window(invocation.target_path),
                "parse": "once per process" if i else "first: parses the manifest",
            }
        )
    return {
        "import_s": round(t_import - t0, 3),
        "parse_s": round(t_parse - t_import, 3),
        "runs": runs,
        "resource_runs": resource_runs,
        "wall_s": round(time.perf_counter() - t0, 3),
    }


def _raw_tables(warehouse: str, base_url: str) -> dict[str, dict]:
    """Every raw table's row count and an order-free hash of its rows, less what differs between two
    landings of one world: `fetched_at` (when we fetched) and the sandbox's address (a free port,
    in the URLs some payloads carry). Two landings compare equal row for row when these do."""
    import duckdb

    out = {}
    with duckdb.connect(warehouse, read_only=True) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
        ).fetchall()
        for (table,) in tables:
            rows, digest = conn.execute(
                f"select count(*), coalesce(sum(hash(replace(r::varchar, ?, '<sandbox>'))), 0)::varchar from"
                f" (select columns(lambda c: c <> 'fetched_at') from raw.{table}) r",
                [base_url],
            ).fetchone()
            out[table] = {"rows": rows, "hash": digest}
    return out


def _network_traffic(result) -> dict[str, dict]:
    """Per network, what `raw_networks` put in its materializations' metadata (the same traffic on
    each of a network's tables: read once), plus the rows of its tables."""
    from orchestration.assets.raw import NETWORK_KEYS

    networks: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        if mat.asset_key not in NETWORK_KEYS:
            continue
        meta = {k: getattr(v, "value", v) for k, v in (mat.metadata or {}).items()}
        network = NETWORK_KEYS[mat.asset_key][0]
        entry = networks.setdefault(
            network,
            {
                "requests": int(meta.get("requests", 0)),
                "requests_per_second": float(meta.get("requests_per_second", 0.0)),
                "rate_limit_wait_share": float(meta.get("rate_limit_wait_share", 0.0)),
                "failed_accounts": int(meta.get("failed_accounts", 0)),
                "rows": 0,
            },
        )
        entry["rows"] += int(meta.get("rows", 0))
    for entry in networks.values():  # each network's landing time, as its metadata measured it
        rps = entry["requests_per_second"]
        entry["seconds"] = round(entry["requests"] / rps, 3) if rps else 0.0
    return networks


def stage_landing(args: dict) -> dict:
    """The default sandbox world landed through the real connectors into a scratch DuckDB: the real
    raw assets (`raw_platform`, `privacy/unmeasured_persons`, `raw_networks`) materialised in-process
    as ONE run over the days (what `make run` starts with), checks left out. The sandbox starts
    first, untimed: it is the APIs, not the landing."""
    os.environ["KLOUT_WAREHOUSE"] = args["warehouse"]
    t0 = time.perf_counter()
    from dagster import AssetSelection, DagsterInstance

    from orchestration.assets.raw import NETWORK_KEYS
    from orchestration.definitions import build_definitions
    from orchestration.keys import RAW_GROUP, UNMEASURED
    from orchestration.resources import SocialNetworks

    social = SocialNetworks(
        sandbox_persons=int(args["persons"]),
        sandbox_days=int(args["world_days"]),
        sandbox_end_date=args["end_date"],
        sandbox_fault_rate=float(args["fault_rate"]),
        **({"fetch_workers": int(args["fetch_workers"])} if args.get("fetch_workers") else {}),
    )
    defs = build_definitions(social)
    graph = defs.resolve_asset_graph()
    keys = AssetSelection.groups(RAW_GROUP).resolve(graph) | {UNMEASURED}
    if args.get("networks"):  # a subset of the networks (a smaller bench); default: all, as make run
        keys -= {k for k, (network, _) in NETWORK_KEYS.items() if network not in args["networks"]}
    job = defs.resolve_job_def("daily_influence").get_subset(asset_selection=set(keys), asset_check_selection=set())
    t_setup = time.perf_counter()
    social.sandbox.base_url  # noqa: B018 - start the sandbox (world generation, a process) before timing
    t_sandbox = time.perf_counter()
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        instance=DagsterInstance.ephemeral(),
        tags=dict(zip(ASSET_RANGE_TAGS, (args["first"], args["last"]))),
        raise_on_error=True,
    )
    t_run = time.perf_counter()
    steps = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS":
            steps[event.step_key] = round(event.event_specific_data.duration_ms / 1000, 3)
    networks = _network_traffic(result)
    requests = sum(n["requests"] for n in networks.values())
    busy = sum(n["seconds"] for n in networks.values())
    landing_s = steps.get("raw_networks", 0.0)
    tables = _raw_tables(args["warehouse"], social.sandbox.base_url)
    return {
        "wall_s": round(t_run - t_sandbox, 3),
        "setup_s": round(t_setup - t0, 3),
        "sandbox_start_s": round(t_sandbox - t_setup, 3),
        "fault_rate": float(args["fault_rate"]),
        "fetch_workers": social.fetch_workers,
        "steps": steps,
        "networks_s": landing_s,
        "requests": requests,
        "requests_per_second": round(requests / landing_s, 2) if landing_s else None,
        # each network's share weighted by its landing time: the fetching threads' time spent waiting
        "rate_limit_wait_share": round(
            sum(n["rate_limit_wait_share"] * n["seconds"] for n in networks.values()) / busy, 3
        )
        if busy
        else 0.0,
        "failed_accounts": sum(n["failed_accounts"] for n in networks.values()),
        "networks": networks,
        "rows": sum(t["rows"] for t in tables.values()),
        "tables": tables,
    }


STAGES = {
    "landing": stage_landing,
    "generate": stage_generate,
    "serve": stage_serve,
    "assets": stage_assets,
    "gx": stage_gx,
    "bare_scan": stage_bare_scan,
    "pandas_peer": stage_pandas_peer,
    "network": stage_network,
    "dbt_inprocess": stage_dbt_inprocess,
    "validity": stage_validity,
    "import_log": stage_import_log,
}


if __name__ == "__main__":
    stage, arg_file, out_file = sys.argv[1:4]
    result = STAGES[stage](json.loads(Path(arg_file).read_text()))
    Path(out_file).write_text(json.dumps(result, default=str))
