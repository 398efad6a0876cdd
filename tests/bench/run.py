"""Benchmark harness: scale worlds -> dbt (facts, features) -> score, against a bare scan and a pandas peer.

    .venv/bin/python -m tests.bench.run                      # small (10k persons, ~1M interactions)
    .venv/bin/python -m tests.bench.run --size medium        # 100k persons, ~10M interactions
    make bench BENCH_ARGS="--size medium --growth-scale 4"

Writes bench_results/<timestamp>.json and (unless --no-docs) docs/benchmarks.md. See docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from tests.bench import report
from tests.bench.stages import ROOT, run_child, run_dbt
from tests.bench.worldgen import DEFAULT_END, SIZES, interactions_between, truncate_history


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", choices=sorted(SIZES), default="small")
    p.add_argument("--persons", type=int, help="override the size's persons")
    p.add_argument("--days", type=int, help="override the size's days of history (default 90)")
    p.add_argument("--posts-per-day", type=float, help="override posts per account per day (default 0.3)")
    p.add_argument("--growth-history", default="7,30,90", help="history lengths (days) for the flat-cost curve")
    p.add_argument("--growth-persons", default="1,4,16", help="person multipliers for the scaling curve")
    p.add_argument("--growth-base", type=int, help="persons at 1x (default: the size's persons / 16, >= 300)")
    p.add_argument("--growth-scale", type=int, default=1,
                   help="multiply the persons-curve base by this (bigger curve; 16 = the size's own persons at 1x)")
    p.add_argument("--growth-days", type=int, default=14, help="days of history in the persons-curve worlds")
    p.add_argument("--nx-nodes", type=int, default=100_000)
    p.add_argument("--nx-edges", type=int, default=5_000_000)
    p.add_argument("--out-dir", default=str(ROOT / "bench_results"))
    p.add_argument("--docs", default=str(ROOT / "docs" / "benchmarks.md"))
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    p.add_argument("--keep", action="store_true", help="keep the bench warehouses")
    p.add_argument("--render", metavar="JSON", help="only re-render docs/benchmarks.md from a results JSON")
    return p.parse_args(argv)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def daily_run(warehouse: Path, day: date, work: Path, tag: str) -> dict:
    """One daily partition: dbt build for [day, day], then scoring that day."""
    dbt = run_dbt(str(warehouse), day, day, work / tag)
    score = run_child("score", {"warehouse": str(warehouse), "first": day, "last": day}, work / tag)
    return {"dbt": dbt, "score": score, "wall_s": round(dbt["wall_s"] + score["process_wall_s"], 3),
            "peak_rss_mb": max(dbt["peak_rss_mb"], score["peak_rss_mb"])}


def main(argv=None) -> dict:
    a = parse_args(argv)
    if a.render:
        results = json.loads(Path(a.render).read_text())
        results["summary"] = report.summarise(results)
        Path(a.docs).write_text(report.markdown(results, a.render))
        return results
    size = dict(SIZES[a.size])
    size.update({k: v for k, v in (("persons", a.persons), ("days", a.days), ("posts_per_day", a.posts_per_day))
                 if v is not None})
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out_dir = Path(a.out_dir)
    work = out_dir / f"run-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    wh = work / "warehouse.duckdb"
    end = DEFAULT_END
    start = end - timedelta(days=size["days"] - 1)
    results: dict = {"started_at": stamp, "size": a.size, "world": {**size, "start": start, "end": end},
                     "machine": report.machine(), "argv": sys.argv[1:] if argv is None else argv, "stages": {}}
    stages = results["stages"]

    log(f"generating {size['persons']:,} persons x {size['days']} days into {wh}")
    stages["generate"] = run_child("generate", {"warehouse": str(wh), "end_date": end, **size}, work)
    total = stages["generate"]["reactions"]
    day_n = interactions_between(str(wh), end, end)
    results["world"].update(interactions=total, interactions_last_day=day_n)
    log(f"  {total:,} interactions ({day_n:,} on {end}) in {stages['generate']['wall_s']}s")

    log("backfill: one dbt build over the whole window, then scoring every day")
    bf_dbt = run_dbt(str(wh), start, end, work / "backfill")
    bf_score = run_child("score", {"warehouse": str(wh), "first": start, "last": end}, work / "backfill")
    stages["backfill"] = {"dbt": bf_dbt, "score": bf_score, "days": size["days"], "interactions": total,
                          "wall_s": round(bf_dbt["wall_s"] + bf_score["process_wall_s"], 3),
                          "peak_rss_mb": max(bf_dbt["peak_rss_mb"], bf_score["peak_rss_mb"])}
    log(f"  dbt {bf_dbt['wall_s']}s, score {bf_score['process_wall_s']}s")
    shutil.copyfile(wh, work / "backfilled.duckdb")

    log(f"daily: one partition ({end}) on the backfilled warehouse")
    stages["daily"] = {**daily_run(wh, end, work, "daily"), "interactions": day_n}
    log(f"  dbt {stages['daily']['dbt']['wall_s']}s, score {stages['daily']['score']['process_wall_s']}s")

    log("lower bound (bare DuckDB scan) and peer (pandas), same data")
    stages["bare_scan_day"] = run_child("bare_scan", {"warehouse": str(wh), "first": end, "last": end}, work / "bare_day")
    stages["bare_scan_backfill"] = run_child("bare_scan", {"warehouse": str(wh), "first": start, "last": end},
                                             work / "bare_all")
    stages["pandas_day"] = run_child("pandas_peer", {"warehouse": str(wh), "first": end, "last": end}, work / "pd_day")
    stages["pandas_backfill"] = run_child("pandas_peer", {"warehouse": str(wh), "first": start, "last": end},
                                          work / "pd_all")
    log(f"  bare {stages['bare_scan_day']['wall_s']}s/{stages['bare_scan_backfill']['wall_s']}s, "
        f"pandas {stages['pandas_day']['wall_s']}s/{stages['pandas_backfill']['wall_s']}s")

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
        truncate_history(str(copy), day)
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
            curve.append({"factor": k, "persons": persons, "history_days": gdays, "interactions": day_n,
                          "interactions_window": total, "reused": "daily", **stages["daily"]})
            log(f"  {persons:>8,} persons: {stages['daily']['wall_s']}s (the daily stage)")
            continue
        gwh = work / f"persons_{persons}.duckdb"
        gen = run_child("generate", {"warehouse": str(gwh), "end_date": end, "persons": persons, "days": gdays,
                                     "posts_per_day": size["posts_per_day"]}, work / f"persons_{persons}")
        if gdays > 1:  # history before the measured day: setup, not measured
            run_dbt(str(gwh), end - timedelta(days=gdays - 1), end - timedelta(days=1), work / f"persons_{persons}")
        run = daily_run(gwh, end, work, f"persons_{persons}")
        curve.append({"factor": k, "persons": persons, "history_days": gdays,
                      "interactions": interactions_between(str(gwh), end, end),
                      "interactions_window": gen["reactions"], **run})
        log(f"  {persons:>8,} persons: {run['wall_s']}s (dbt {run['dbt']['wall_s']}s)")
        if not a.keep:
            gwh.unlink()
    stages["growth_persons"] = curve

    log(f"network_influence on {a.nx_nodes:,} nodes / {a.nx_edges:,} edges")
    stages["network_influence"] = run_child("network", {"nodes": a.nx_nodes, "edges": a.nx_edges}, work / "network")
    log(f"  {stages['network_influence']['wall_s']}s")

    if not a.keep:
        for f in (wh, work / "backfilled.duckdb"):
            f.unlink(missing_ok=True)
    results["summary"] = report.summarise(results)
    results["finished_at"] = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    out = out_dir / f"{stamp}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    log(f"results: {out}")
    if not a.no_docs:
        Path(a.docs).write_text(report.markdown(results, out.relative_to(ROOT) if out.is_relative_to(ROOT) else out))
        log(f"table: {a.docs}")
    print(report.summary_table(results))
    return results


if __name__ == "__main__":
    main()
