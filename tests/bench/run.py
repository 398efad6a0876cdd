"""Benchmark harness: scale worlds -> dbt (facts, features) -> the Dagster assets downstream (score, topics,
leaderboards, perks) -> the GX checks, against a bare scan and a pandas peer.

    .venv/bin/python -m tests.bench.run                      # small (10k persons, ~1M interactions)
    .venv/bin/python -m tests.bench.run --size medium        # 100k persons, ~10M interactions
    make bench BENCH_ARGS="--size medium --growth-scale 4"
    .venv/bin/python -m tests.bench.run --only serve         # the site alone: a 100k-person snapshot, profile p95
    .venv/bin/python -m tests.bench.run --only dbt_overhead  # dbt's fixed cost per invocation (tiny world)
    .venv/bin/python -m tests.bench.run --only landing       # landing the default sandbox world, 0% and 10% faults
    .venv/bin/python -m tests.bench.run --only generate --size large   # world generation alone (persons/s, RSS)
    .venv/bin/python -m tests.bench.run --only validity      # issue 21: score vs followers on an adversarial world
    .venv/bin/python -m tests.bench.run --size large --background      # unattended: detached, logs to its run dir
    make bench-large                                         # the same, niced (BENCH_ARGS appended)

Writes bench_results/<timestamp>.json (and bench_results/run-<timestamp>/: the stages' files, results.json and,
in the background, bench.log) and, unless --no-docs, merges the run into docs/benchmarks.json by size (the other
sizes' sections are kept) and re-renders docs/benchmarks.md from it. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.bench import report
from tests.bench.stages import ROOT, StageStopped, run_child, run_dbt, run_dbt_cli
from tests.bench.worldgen import DEFAULT_END, SIZES, interactions_between, truncate_history


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--size", choices=sorted(SIZES), default="small")
    p.add_argument("--persons", type=int, help="override the size's persons")
    p.add_argument("--days", type=int, help="override the size's days of history (default 90)")
    p.add_argument("--posts-per-day", type=float, help="override posts per account per day (default 0.45)")
    p.add_argument("--growth-history", default="7,30,90", help="history lengths (days) for the flat-cost curve")
    p.add_argument("--growth-persons", default="1,4,16", help="person multipliers for the scaling curve")
    p.add_argument("--growth-base", type=int, help="persons at 1x (default: the size's persons / 16, >= 300)")
    p.add_argument(
        "--growth-scale",
        type=int,
        default=1,
        help="multiply the persons-curve base by this (bigger curve; 16 = the size's own persons at 1x)",
    )
    p.add_argument("--growth-days", type=int, default=14, help="days of history in the persons-curve worlds")
    p.add_argument("--nx-nodes", type=int, default=100_000)
    p.add_argument("--nx-edges", type=int, default=5_000_000)
    p.add_argument(
        "--only",
        choices=["serve", "dbt_overhead", "landing", "generate", "validity"],
        help="run only this stage (serve: the site on a synthetic snapshot, no docs rewrite; dbt_overhead: dbt's"
        " fixed cost per invocation on a tiny world, no docs rewrite; landing: the default sandbox world landed"
        " fault-free and with faults, its section merged into --docs-json and the docs re-rendered; generate: the"
        " world generation alone, its row merged into --docs-json's generation table; validity: issue 21's"
        " predictive validity on an adversarial world of --validity-persons x --days (default 90), its section"
        " merged into --docs-json)",
    )
    p.add_argument("--validity-persons", type=int, default=5_000, help="persons in the validity world (default 5,000)")
    p.add_argument(
        "--validity-preset",
        default="adversarial",
        help="comma-separated world presets measured by the validity stage (sandbox/world.py PRESETS;"
        " e.g. adversarial,default for the default world as a contrast)",
    )
    p.add_argument(
        "--validity-log",
        metavar="FILE",
        help="also measure an interaction log (the bulk importer's format, docs/contracts.md) imported into a"
        " warehouse of its own: the held-out check, with no truth (no ability, bots or rings known) and no"
        " follower counts; tests/bench/export_log.py writes one from a sandbox world",
    )
    p.add_argument(
        "--overhead-runs", type=int, default=3, help="dbt invocations timed per way of invoking (dbt_overhead)"
    )
    p.add_argument("--landing-persons", type=int, default=200, help="persons in the landed sandbox world (make run's)")
    p.add_argument("--landing-days", type=int, default=14, help="daily partitions landed (make run's 14)")
    p.add_argument("--landing-fault-rate", type=float, default=0.1, help="the faulty landing's sandbox fault rate")
    p.add_argument(
        "--landing-fetch-workers", type=int, help="accounts of a network fetched at once (default: the resource's)"
    )
    p.add_argument(
        "--landing-networks",
        help="comma-separated networks to land (default: every registered network, as make run does)",
    )
    p.add_argument(
        "--docs-json",
        default=str(ROOT / "docs" / "benchmarks.json"),
        help="the results the docs are rendered from: --only landing merges its stage into them",
    )
    p.add_argument("--serve-persons", type=int, help="people in the serving snapshot (default 100,000, or --persons)")
    p.add_argument("--serve-topics", type=int, default=200, help="topics (with leaderboards) in the serving snapshot")
    p.add_argument("--serve-requests", type=int, default=500, help="profile pages timed")
    p.add_argument("--out-dir", default=str(ROOT / "bench_results"))
    p.add_argument("--docs", default=str(ROOT / "docs" / "benchmarks.md"))
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    p.add_argument("--keep", action="store_true", help="keep the bench warehouses")
    p.add_argument("--render", metavar="JSON", help="only re-render docs/benchmarks.md from a results JSON")
    p.add_argument(
        "--background",
        action="store_true",
        help="start the same run detached (nohup-like, its own session) and return: it logs to"
        " <out-dir>/run-<timestamp>/bench.log and writes its results (and, unless --no-docs, its size's docs) when done",
    )
    p.add_argument("--nice", type=int, default=0, help="with --background: the run's niceness increment")
    p.add_argument(
        "--backfill-budget-min",
        type=float,
        help="stop the backfill once it has run this long and report it unfinished (its verdicts from what was"
        f" measured); default: the large backfill's target ({report.LARGE_BACKFILL_S // 60} min) at `large`, none"
        " otherwise; 0: none",
    )
    p.add_argument(
        "--world",
        metavar="RUN_DIR",
        help="start from a world generated before (the run directory of an `--only generate --keep` run of the"
        " same size): its warehouse is copied into this run and its generation stage reported, not redrawn",
    )
    p.add_argument("--stamp", help=argparse.SUPPRESS)  # the run's timestamp, passed to a background run
    return p.parse_args(argv)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def generate_stage(wh: Path, end: date, size: dict, work: Path) -> dict:
    """The world, in its own process: seconds, persons/s, interactions/s and the child's peak RSS."""
    log(f"generating {size['persons']:,} persons x {size['days']} days into {wh}")
    stage = run_child("generate", {"warehouse": str(wh), "end_date": end, **size}, work)
    log(
        f"  {stage['reactions']:,} interactions, {stage['posts']:,} posts in {stage['wall_s']}s ({stage['cpu_s']} CPU s):"
        f" {stage['persons_per_s']:,} persons/s, {stage['interactions_per_s']:,} interactions/s,"
        f" peak RSS {stage['peak_rss_mb']} MB"
    )
    return stage


def reuse_world(run_dir: Path, wh: Path, world: dict) -> dict:
    """A kept world (`--only generate --keep`) instead of a new one: the large world takes about half an
    hour to draw, so a run can start from one drawn before. Refused unless it is the world asked for."""
    kept = json.loads((run_dir / "results.json").read_text())
    mine = {k: world[k] for k in ("persons", "days", "posts_per_day")} | {"end": str(world["end"])}
    theirs = {k: kept["world"][k] for k in ("persons", "days", "posts_per_day")} | {"end": str(kept["world"]["end"])}
    if mine != theirs:
        raise SystemExit(f"--world {run_dir}: its world {theirs} is not this run's {mine}")
    log(f"reusing the world generated in {run_dir} ({kept['started_at']}): copying its warehouse")
    shutil.copyfile(run_dir / "warehouse.duckdb", wh)
    return {**kept["stages"]["generate"], "reused_from": kept["started_at"]}


def pipeline_run(warehouse: Path, first: date, last: date, workdir: Path, budget_s: float | None = None) -> dict:
    """One run of the daily job over [first, last] minus raw landing and the checks: one dbt build
    (what the dbt asset runs), then the Dagster assets downstream of dbt as one run. With `budget_s`,
    the run is stopped once it has taken that long (`StageStopped`, with what finished before)."""
    deadline = time.monotonic() + budget_s if budget_s else None
    dbt = run_dbt(str(warehouse), first, last, workdir, deadline=deadline)
    try:
        assets = run_child("assets", {"warehouse": str(warehouse), "first": first, "last": last}, workdir, deadline)
    except StageStopped as stopped:
        stopped.finished = {"dbt": dbt}
        raise
    return {
        "dbt": dbt,
        "assets": assets,
        "wall_s": round(dbt["wall_s"] + assets["process_wall_s"], 3),
        "peak_rss_mb": max(dbt["peak_rss_mb"], assets["peak_rss_mb"]),
    }


def daily_run(warehouse: Path, day: date, work: Path, tag: str) -> dict:
    """One daily partition: dbt build for [day, day], then the downstream assets for that day."""
    return pipeline_run(warehouse, day, day, work / tag)


def gx_run(warehouse: Path, first: date, last: date, workdir: Path) -> dict:
    """Every GX suite on [first, last], in one process (GX start-up once, as in one Dagster run)."""
    return run_child("gx", {"warehouse": str(warehouse), "first": first, "last": last}, workdir)


def serve_stage(a: argparse.Namespace, size: dict, work: Path) -> dict:
    """The site on a synthetic serving snapshot of the medium world's people (or --persons), its
    profile pages timed in process against the 50 ms p95 target."""
    persons = a.serve_persons or a.persons or SIZES["medium"]["persons"]
    log(f"serve: a snapshot of {persons:,} people x {size['days']} days, then {a.serve_requests} profile pages")
    stage = run_child(
        "serve",
        {
            "directory": str(work / "serving"),
            "persons": persons,
            "days": size["days"],
            "topics": a.serve_topics,
            "requests": a.serve_requests,
            "as_of": DEFAULT_END,
        },
        work / "serve",
    )
    if not a.keep:
        shutil.rmtree(work / "serving", ignore_errors=True)
    log(
        f"  profile p50 {stage['profile']['p50_ms']} ms, p95 {stage['profile']['p95_ms']} ms"
        f" ({report.SERVE_P95_MS} ms target: {report._v(report.serve_pass(stage))}); snapshot built in {stage['build_s']}s"
    )
    return stage


OVERHEAD_WORLD = dict(persons=300, days=3, posts_per_day=0.3)


def dbt_overhead_stage(a: argparse.Namespace, work: Path) -> dict:
    """dbt's fixed cost per invocation (issue 20, item 2), on a tiny world whose one-day windows cost
    next to nothing to compute, so what is timed is start-up and parsing. Per way of invoking, the same
    one-day windows (the world's last days, then an empty day after it), each a full `dbt build`:

    - `subprocess_new_vars`: today's Dagster asset: a dbt process per run, in a fresh target dir seeded
      with the project's `partial_parse.msgpack` (parsed without --vars, as `dbt parse` leaves it), then
      `build --vars <window>`: a new window changes the vars, so dbt re-parses the whole project;
    - `subprocess_same_vars`: the same command again in that target dir: the vars match, partial parse;
    - `inprocess_manifest`: dbt's `dbtRunner` in one process, every window on the one parsed `Manifest`
      (`dbtRunner(manifest=...)`); its import and parse are reported apart (paid once per process);
    - `inprocess_resource`: the dbt asset's own path, `InProcessDbtResource.cli(...)` in that process
      (dagster-dbt reading the events; its first invocation parses the manifest it then keeps).
    """
    wh = work / "warehouse.duckdb"
    world = {**OVERHEAD_WORLD, "end_date": DEFAULT_END}
    log(f"dbt_overhead: a {world['persons']}-person, {world['days']}-day world; setup build untimed")
    run_child("generate", {"warehouse": str(wh), **world}, work / "generate")
    first = DEFAULT_END - timedelta(days=world["days"] - 1)
    setup = run_dbt(str(wh), first, DEFAULT_END, work / "setup")
    base = work / "base_target"
    base_parse = run_dbt_cli(str(wh), ["parse"], base, work / "base_logs")
    windows = [DEFAULT_END - timedelta(days=i) for i in range(max(a.overhead_runs - 1, 0))]
    windows.append(DEFAULT_END + timedelta(days=30))  # an empty window: nothing landed that day
    windows = [d.isoformat() for d in windows]
    new_vars, same_vars = [], []
    for i, day in enumerate(windows):
        target = work / f"sub_{i}" / "target"
        target.mkdir(parents=True)
        shutil.copy(base / "partial_parse.msgpack", target / "partial_parse.msgpack")
        build = ["build", "--vars", json.dumps({"min_date": day, "max_date": day})]
        new_vars.append({"day": day, **run_dbt_cli(str(wh), build, target, work / f"sub_{i}" / "logs")})
        same_vars.append({"day": day, **run_dbt_cli(str(wh), build, target, work / f"sub_{i}" / "logs")})
    target = work / "inproc" / "target"
    target.mkdir(parents=True)
    shutil.copy(base / "partial_parse.msgpack", target / "partial_parse.msgpack")
    inproc = run_child(
        "dbt_inprocess",
        {"warehouse": str(wh), "days": windows, "target": str(target), "log_path": str(work / "inproc" / "logs")},
        work / "inproc",
    )
    mean = lambda runs: round(sum(r["wall_s"] for r in runs) / len(runs), 3)  # noqa: E731
    stage = {
        "world": {**world, "first": first.isoformat()},
        "windows": windows,
        "setup_build_s": setup["wall_s"],
        "nodes": setup["nodes"],
        "base_parse_s": base_parse["wall_s"],
        "modes": {
            "subprocess_new_vars": {"runs": new_vars, "per_invocation_s": mean(new_vars)},
            "subprocess_same_vars": {"runs": same_vars, "per_invocation_s": mean(same_vars)},
            "inprocess_manifest": {
                "runs": inproc["runs"],
                "per_invocation_s": mean(inproc["runs"]),
                "import_s": inproc["import_s"],
                "parse_s": inproc["parse_s"],
                "peak_rss_mb": inproc["peak_rss_mb"],
            },
            "inprocess_resource": {
                "runs": inproc["resource_runs"],
                "per_invocation_s": mean(inproc["resource_runs"]),
                "per_invocation_after_first_s": mean(inproc["resource_runs"][1:] or inproc["resource_runs"]),
            },
        },
        "asset_mode": "inprocess_resource",
    }
    for name, mode in stage["modes"].items():
        log(
            f"  {name}: {mode['per_invocation_s']}s per invocation ({', '.join(str(r['wall_s']) for r in mode['runs'])})"
        )
    m = stage["modes"]["inprocess_manifest"]
    log(f"  in-process: import {m['import_s']}s + parse {m['parse_s']}s once per process")
    if not a.keep:
        wh.unlink(missing_ok=True)
    return stage


def landing_stage(a: argparse.Namespace, work: Path) -> dict:
    """The default sandbox world (make run's: 200 persons, every network, 14 days) landed through the
    real connectors into a scratch DuckDB, fault-free then with faults, each in its own process."""
    last = DEFAULT_END - timedelta(days=1)  # make run lands the days before the world's last (today)
    first = last - timedelta(days=a.landing_days - 1)
    runs = {}
    for label, rate in (("fault_free", 0.0), ("faults", a.landing_fault_rate)):
        log(f"landing: {a.landing_persons} persons, {a.landing_days} days ({first}...{last}), fault rate {rate}")
        warehouse = work / f"landing_{label}.duckdb"
        warehouse.unlink(missing_ok=True)
        runs[label] = run_child(
            "landing",
            {
                "warehouse": str(warehouse),
                "persons": a.landing_persons,
                "world_days": max(30, a.landing_days + 1),  # the sandbox's default 30 days, or enough
                "end_date": DEFAULT_END,
                "first": first,
                "last": last,
                "fault_rate": rate,
                "networks": a.landing_networks.split(",") if a.landing_networks else None,
                "fetch_workers": a.landing_fetch_workers,
            },
            work / f"landing_{label}",
        )
        r = runs[label]
        log(
            f"  {r['wall_s']}s ({r['networks_s']}s raw_networks), {r['requests']:,} requests,"
            f" {r['requests_per_second']}/s, {r['rate_limit_wait_share']:.1%} waiting, {r['rows']:,} rows,"
            f" {r['failed_accounts']} failed accounts"
        )
        if not a.keep:
            warehouse.unlink(missing_ok=True)
    stage = {
        "persons": a.landing_persons,
        "days": a.landing_days,
        "first": first,
        "last": last,
        "fault_rate": a.landing_fault_rate,
        **runs,
        "differences": report.landing_differences(runs["fault_free"], runs["faults"]),
    }
    log(report.landing_line(stage))
    return stage


def formula_versions() -> list[str]:
    """Every formula version in domain/formulas, the active one (KLOUT_FORMULA_VERSION, v1) first: the
    full asset run scores it, each other is rescored beside it."""
    active = os.environ.get("KLOUT_FORMULA_VERSION", "v1")
    found = sorted(p.stem for p in (ROOT / "domain" / "formulas").glob("*.yaml"))
    return [active] + [v for v in found if v != active]


def validity_stage(a: argparse.Namespace, work: Path) -> dict:
    """Issue 21's predictive validity, per world preset: a bench world of --validity-persons x --days with
    its truth files beside it (never in the warehouse), one dbt build over the window, the downstream
    assets (the active formula version), a rescore per other version (its versioned tables, as
    `make rescore` runs it), then tests/bench/validity.py on the as-of days (see that module)."""
    days = a.days or 90
    end = DEFAULT_END
    first = end - timedelta(days=days - 1)
    versions = formula_versions()
    worlds = {}
    for preset in [x.strip() for x in a.validity_preset.split(",") if x.strip()]:
        wdir = work / f"validity_{preset}"
        wdir.mkdir(parents=True, exist_ok=True)
        wh = wdir / "warehouse.duckdb"
        log(f"validity: a {preset} world of {a.validity_persons:,} persons x {days} days; versions {versions}")
        world = {
            "persons": a.validity_persons,
            "days": days,
            "posts_per_day": a.posts_per_day or SIZES["small"]["posts_per_day"],
            "end_date": end,
        }
        gen = run_child("generate", {"warehouse": str(wh), **world, "preset": preset, "truth_dir": str(wdir)}, wdir)
        log(f"  {gen['reactions']:,} interactions in {gen['wall_s']}s; dbt build over {first}..{end}")
        dbt = run_dbt(str(wh), first, end, wdir / "dbt")
        assets = {}
        for i, version in enumerate(versions):
            args = {"warehouse": str(wh), "first": first, "last": end} | ({"formula_version": version} if i else {})
            run = run_child("assets", args, wdir / f"assets_{version}")
            assets[version] = run["process_wall_s"]
            log(f"  dbt {dbt['wall_s']}s; assets ({version}) {run['process_wall_s']}s")
        measured = run_child(
            "validity",
            {"warehouse": str(wh), "truth_dir": str(wdir), "first": first, "last": end, "versions": versions},
            wdir,
        )
        if not a.keep:
            wh.unlink(missing_ok=True)
        worlds[preset] = {
            "preset": preset,
            "persons": a.validity_persons,
            "days": days,
            "first": first,
            "last": end,
            "interactions": gen["reactions"],
            "posts": gen["posts"],
            "seconds": {
                "generate": gen["wall_s"],
                "dbt": dbt["wall_s"],
                "assets": assets,
                "validity": measured["process_wall_s"],
            },
            **{k: v for k, v in measured.items() if k not in ("wall_s", "process_wall_s", "peak_rss_mb")},
        }
        log(report.validity_line(worlds[preset]))
    if a.validity_log:
        worlds["log"] = validity_log_world(Path(a.validity_log), work / "validity_log", versions, a.keep)
        log(report.validity_line(worlds["log"]))
    return {"worlds": worlds}


def validity_log_world(path: Path, wdir: Path, versions: list[str], keep: bool) -> dict:
    """An interaction log through the bulk importer, then as a bench world: one dbt build over its days,
    the assets (the first of `versions` is the active one), a rescore per other version, the validity
    measures without a truth."""
    wh = wdir / "warehouse.duckdb"
    wh.unlink(missing_ok=True)
    log(f"validity: the log {path} through the bulk importer; versions {versions}")
    landed = run_child("import_log", {"warehouse": str(wh), "file": str(path.resolve())}, wdir)
    if not landed["landed"]:
        raise SystemExit(f"{path}: the importer landed no row ({landed['rejected']:,} rejected): nothing to measure")
    first, last = date.fromisoformat(landed["first"]), date.fromisoformat(landed["last"])
    log(f"  {landed['landed']:,} rows landed, {landed['rejected']:,} rejected; dbt build over {first}..{last}")
    dbt = run_dbt(str(wh), first, last, wdir / "dbt")
    assets = {}
    for i, version in enumerate(versions):
        args = {"warehouse": str(wh), "first": first, "last": last} | ({"formula_version": version} if i else {})
        assets[version] = run_child("assets", args, wdir / f"assets_{version}")["process_wall_s"]
    measured = run_child("validity", {"warehouse": str(wh), "first": first, "last": last, "versions": versions}, wdir)
    if not keep:
        wh.unlink(missing_ok=True)
    return {
        "preset": f"log {path.name}",
        "role": "held out: an imported log, no truth, no follower counts",
        "persons": max(measured["persons_scored"].values(), default=0),
        "days": (last - first).days + 1,
        "first": first,
        "last": last,
        "interactions": landed["landed"],
        "posts": landed["posts"],
        "rejected": landed["rejected"],
        "seconds": {
            "import": landed["wall_s"],
            "dbt": dbt["wall_s"],
            "assets": assets,
            "validity": measured["process_wall_s"],
        },
        **{k: v for k, v in measured.items() if k not in ("wall_s", "process_wall_s", "peak_rss_mb")},
    }


def start_background(a: argparse.Namespace, argv: list[str]) -> dict:
    """The same run in a detached child (its own session, stdin closed, output to a log in its run
    dir), so it outlives this shell; returns where to find it."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = Path(a.out_dir) / f"run-{stamp}"
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "bench.log"
    args = [x for x in argv if x != "--background"] + ["--stamp", stamp]
    niceness = a.nice
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.bench.run", *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=(lambda: _lower_priority(niceness)) if niceness else None,
        )
    (run_dir / "bench.pid").write_text(f"{proc.pid}\n")
    log(f"started in the background: pid {proc.pid}, log {log_path}; results {Path(a.out_dir) / stamp}*.json")
    return {"background": {"pid": proc.pid, "stamp": stamp, "run_dir": str(run_dir), "log": str(log_path)}}


def _lower_priority(niceness: int) -> None:
    """`nice` for a process in its own session. With the kernel's autogroup scheduling (Debian's
    default) a new session is its own scheduling group, and a process's nice only ranks it within
    that group: the group's nice (/proc/self/autogroup) is what yields to other sessions' work."""
    os.nice(niceness)
    try:
        Path("/proc/self/autogroup").write_text(f"{niceness}\n")
    except OSError:  # no autogroup (kernel option off, or not Linux): the process nice is the one that counts
        pass


@contextmanager
def _docs_lock(docs_json: Path):
    """One writer of the docs at a time: two background runs (medium, large) may finish together."""
    docs_json.parent.mkdir(parents=True, exist_ok=True)
    with open(docs_json, "a") as lock:  # the file itself (rewritten in place), no lock file left behind
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def publish(a: argparse.Namespace, results: dict, merge) -> dict:
    """Merge `results` into --docs-json with `merge(docs, results)` and re-render --docs from it."""
    docs_json = Path(a.docs_json)
    with _docs_lock(docs_json):
        text = docs_json.read_text().strip()
        docs = json.loads(text) if text else None
        merged = merge(docs, results)
        docs_json.write_text(json.dumps(merged, indent=1, default=str))  # as committed: a small diff
        Path(a.docs).write_text(report.markdown(merged, _shown(docs_json)))
    log(f"table: {a.docs} (this run's section; the rest re-rendered from {a.docs_json})")
    return merged


def _finish(results: dict, out: Path, work: Path) -> None:
    results["finished_at"] = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(results, indent=2, default=str)
    out.write_text(text)
    (work / "results.json").write_text(text)
    log(f"results: {out}")


def _shown(path: Path) -> Path:
    """A results file as the docs name it: relative to the repository when inside it."""
    path = path.resolve()
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def main(argv=None) -> dict:
    argv = sys.argv[1:] if argv is None else list(argv)
    a = parse_args(argv)
    if a.background:
        return start_background(a, argv)
    if a.render:
        results = report.resummarise(json.loads(Path(a.render).read_text()))
        Path(a.docs).write_text(report.markdown(results, a.render))
        return results
    size = dict(SIZES[a.size])
    size.update(
        {
            k: v
            for k, v in (("persons", a.persons), ("days", a.days), ("posts_per_day", a.posts_per_day))
            if v is not None
        }
    )
    stamp = a.stamp or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = Path(a.out_dir)
    work = out_dir / f"run-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    wh = work / "warehouse.duckdb"
    end = DEFAULT_END
    start = end - timedelta(days=size["days"] - 1)
    results: dict = {
        "started_at": stamp,
        "size": a.size,
        "world": {**size, "start": start, "end": end},
        "machine": report.machine(),
        "argv": argv,
        "stages": {},
    }
    stages = results["stages"]
    if a.only == "dbt_overhead":
        stages["dbt_overhead"] = dbt_overhead_stage(a, work / "dbt_overhead")
        results["finished_at"] = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = out_dir / f"{stamp}-dbt_overhead.json"
        out.write_text(json.dumps(results, indent=2, default=str))
        log(f"results: {out}")
        print(report.dbt_overhead_table(stages["dbt_overhead"]))
        return results
    if a.only == "serve":
        stages["serve"] = serve_stage(a, size, work)
        results["finished_at"] = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = out_dir / f"{stamp}-serve.json"
        out.write_text(json.dumps(results, indent=2, default=str))
        log(f"results: {out}")
        print(report.serve_table(stages["serve"]))
        return results

    sections = {"landing": (landing_stage, report.landing_table), "validity": (validity_stage, report.validity_table)}
    if a.only in sections:  # a stage run alone: its results, and only its section of the docs
        stage, table = sections[a.only]
        stages[a.only] = stage(a, work)
        _finish(results, out_dir / f"{stamp}-{a.only}.json", work)
        if not a.no_docs and Path(a.docs_json).exists():
            publish(a, results, lambda docs, res: report.merge_stage(docs, a.only, res))
        print(table(stages[a.only]))
        return results

    if a.only == "generate":
        stages["generate"] = generate_stage(wh, end, size, work)
        results["world"].update(interactions=stages["generate"]["reactions"])
        if not a.keep:
            wh.unlink(missing_ok=True)
        _finish(results, out_dir / f"{stamp}-generate.json", work)
        if not a.no_docs:  # only this size's generation row changes
            publish(a, results, report.merge_size)
        return results

    stages["generate"] = (
        reuse_world(Path(a.world), wh, results["world"]) if a.world else generate_stage(wh, end, size, work)
    )
    total = stages["generate"]["reactions"]
    day_n = interactions_between(str(wh), end, end)
    results["world"].update(interactions=total, interactions_last_day=day_n)
    log(f"  {total:,} interactions ({day_n:,} on {end}) in {stages['generate']['wall_s']}s")

    log("backfill: one dbt build over the whole window, then the downstream assets as one run")
    budget_s = backfill_budget_s(a)
    try:
        stages["backfill"] = {
            **pipeline_run(wh, start, end, work / "backfill", budget_s),
            "days": size["days"],
            "interactions": total,
        }
    except StageStopped as stopped:
        stages["backfill"] = stopped_backfill(stopped, budget_s, size["days"], total)
        log(f"  {stopped}: the backfill is unfinished; the bare scans, then the report")
        stages["bare_scan_day"] = run_child(
            "bare_scan", {"warehouse": str(wh), "first": end, "last": end}, work / "bare_day"
        )
        stages["bare_scan_backfill"] = run_child(
            "bare_scan", {"warehouse": str(wh), "first": start, "last": end}, work / "bare_all"
        )
        return _report(a, results, out_dir / f"{stamp}.json", work, [wh])
    log(f"  dbt {stages['backfill']['dbt']['wall_s']}s, assets {stages['backfill']['assets']['process_wall_s']}s")
    log("backfill: the GX checks on the whole window")
    stages["gx_backfill"] = gx_run(wh, start, end, work / "gx_backfill")
    log(
        f"  {stages['gx_backfill']['wall_s']}s in process (start-up + suites), {stages['gx_backfill']['failed']} suites failed"
    )
    shutil.copyfile(wh, work / "backfilled.duckdb")

    log(f"daily: one partition ({end}) on the backfilled warehouse")
    stages["daily"] = {**daily_run(wh, end, work, "daily"), "interactions": day_n}
    log(f"  dbt {stages['daily']['dbt']['wall_s']}s, assets {stages['daily']['assets']['process_wall_s']}s")
    log("daily: the GX checks on that partition")
    stages["gx_daily"] = gx_run(wh, end, end, work / "gx_daily")
    log(
        f"  {stages['gx_daily']['wall_s']}s in process (start-up + suites), {stages['gx_daily']['failed']} suites failed"
    )

    log("lower bound (bare DuckDB scan) and peer (pandas), same data")
    stages["bare_scan_day"] = run_child(
        "bare_scan", {"warehouse": str(wh), "first": end, "last": end}, work / "bare_day"
    )
    stages["bare_scan_backfill"] = run_child(
        "bare_scan", {"warehouse": str(wh), "first": start, "last": end}, work / "bare_all"
    )
    stages["pandas_day"] = run_child("pandas_peer", {"warehouse": str(wh), "first": end, "last": end}, work / "pd_day")
    stages["pandas_backfill"] = run_child(
        "pandas_peer", {"warehouse": str(wh), "first": start, "last": end}, work / "pd_all"
    )
    log(
        f"  bare {stages['bare_scan_day']['wall_s']}s/{stages['bare_scan_backfill']['wall_s']}s, "
        f"pandas {stages['pandas_day']['wall_s']}s/{stages['pandas_backfill']['wall_s']}s"
    )

    log("growth: one day's cost as history grows")
    curve = []
    for h in [h for h in _ints(a.growth_history) if h <= size["days"]]:
        day = start + timedelta(days=h - 1)
        if h == size["days"]:  # the truncated copy would be the backfilled warehouse itself: reuse the daily run
            curve.append({"history_days": h, "day": day, "interactions": day_n, "reused": "daily", **stages["daily"]})
            log(f"  {h:>3} days: {stages['daily']['wall_s']}s (the daily stage)")
            continue
        copy = work / f"history_{h}.duckdb"
        shutil.copyfile(work / "backfilled.duckdb", copy)
        # the day before runs untimed, so the timed day carries its state as the daily stage's day does
        truncate_history(str(copy), day, ran_through=day - timedelta(days=2))
        daily_run(copy, day - timedelta(days=1), work, f"history_{h}_day_before")
        run = daily_run(copy, day, work, f"history_{h}")
        curve.append({"history_days": h, "day": day, "interactions": interactions_between(str(copy), day, day), **run})
        log(f"  {h:>3} days: {run['wall_s']}s (dbt {run['dbt']['wall_s']}s)")
        if not a.keep:
            copy.unlink()
    stages["growth_history"] = curve

    log("growth: one day's cost as persons grow")
    base = a.growth_base or max(300, size["persons"] // 16)
    base *= a.growth_scale
    curve = []
    for k in _ints(a.growth_persons):
        persons = base * k
        gdays = a.growth_days
        if persons == size["persons"] and gdays == size["days"]:  # same world as the main one
            curve.append(
                {
                    "factor": k,
                    "persons": persons,
                    "history_days": gdays,
                    "interactions": day_n,
                    "interactions_window": total,
                    "reused": "daily",
                    **stages["daily"],
                }
            )
            log(f"  {persons:>8,} persons: {stages['daily']['wall_s']}s (the daily stage)")
            continue
        gwh = work / f"persons_{persons}.duckdb"
        gen = run_child(
            "generate",
            {
                "warehouse": str(gwh),
                "end_date": end,
                "persons": persons,
                "days": gdays,
                "posts_per_day": size["posts_per_day"],
            },
            work / f"persons_{persons}",
        )
        if gdays > 1:  # history before the measured day (dbt and the assets, one run): setup, not measured
            pipeline_run(gwh, end - timedelta(days=gdays - 1), end - timedelta(days=1), work / f"persons_{persons}")
        run = daily_run(gwh, end, work, f"persons_{persons}")
        curve.append(
            {
                "factor": k,
                "persons": persons,
                "history_days": gdays,
                "interactions": interactions_between(str(gwh), end, end),
                "interactions_window": gen["reactions"],
                **run,
            }
        )
        log(f"  {persons:>8,} persons: {run['wall_s']}s (dbt {run['dbt']['wall_s']}s)")
        if not a.keep:
            gwh.unlink()
    stages["growth_persons"] = curve

    log(f"network_influence on {a.nx_nodes:,} nodes / {a.nx_edges:,} edges")
    stages["network_influence"] = run_child("network", {"nodes": a.nx_nodes, "edges": a.nx_edges}, work / "network")
    log(f"  {stages['network_influence']['wall_s']}s")

    stages["serve"] = serve_stage(a, size, work)
    stages["dbt_overhead"] = dbt_overhead_stage(a, work / "dbt_overhead")
    stages["landing"] = landing_stage(a, work)

    return _report(a, results, out_dir / f"{stamp}.json", work, [wh, work / "backfilled.duckdb"])


def backfill_budget_s(a: argparse.Namespace) -> float | None:
    """The backfill's time budget: --backfill-budget-min, else the large target at `large` (past it the
    verdict is known, and a large backfill can take hours)."""
    minutes = a.backfill_budget_min
    if minutes is None:
        return report.LARGE_BACKFILL_S if a.size == "large" else None
    return minutes * 60 or None


def stopped_backfill(stopped: StageStopped, budget_s: float, days: int, interactions: int) -> dict:
    """An unfinished backfill as the report shows it: the budget, where it stopped, what finished."""
    finished = getattr(stopped, "finished", {})
    done_s = sum(v["wall_s"] for v in finished.values())
    return {
        "completed": False,
        "budget_s": budget_s,
        "stopped_in": stopped.what,
        "wall_s": round(done_s + stopped.wall_s, 3),
        "peak_rss_mb": max([stopped.peak_rss_mb] + [v["peak_rss_mb"] for v in finished.values()]),
        **finished,
        "days": days,
        "interactions": interactions,
    }


def _report(a: argparse.Namespace, results: dict, out: Path, work: Path, warehouses: list[Path]) -> dict:
    """Summary, results file, this size's docs section, and the verdicts in the log."""
    if not a.keep:
        for f in warehouses:
            f.unlink(missing_ok=True)
    results["summary"] = report.summarise(results)
    _finish(results, out, work)
    if not a.no_docs:  # this size's section; the other sizes' are kept
        publish(a, results, report.merge_size)
    print(report.summary_table(results))
    for key, measured, ok in report.target_rows(results):
        log(f"  {report._v(ok)}: {report.TARGETS[key]}: {measured}")
    return results


if __name__ == "__main__":
    main()
