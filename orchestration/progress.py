"""Progress messages from long steps, which `make run` shows while the step runs.

They are ordinary Dagster log lines (so the UI shows them too), marked with a prefix the CLI's
run reporter looks for.
"""

from __future__ import annotations

PROGRESS_PREFIX = "progress: "


def log_progress(context, done: int, total: int, what: str) -> None:
    """Log `what` as item `done` of `total` (e.g. the day just finished of a partition range)."""
    context.log.info(f"{PROGRESS_PREFIX}{what} ({done}/{total})")


def each_day(context, days: list, what: str = "day"):
    """The days of a step's window, oldest first, logging progress as each one starts."""
    for done, day in enumerate(days, 1):
        log_progress(context, done, len(days), f"{what} {day}")
        yield day


def day_chunks(context, days: list, size: int, what: str = "days"):
    """The days of a step's window in runs of at most `size` consecutive days, oldest first: work
    done a run of days at a time, with memory bounded by one run's working set."""
    chunks = [days[i : i + size] for i in range(0, len(days), size)]
    for done, chunk in enumerate(chunks, 1):
        log_progress(context, done, len(chunks), f"{what} {chunk[0]}..{chunk[-1]}")
        yield chunk


def counted(context, total: int):
    """A progress callback: each call logs its text as the next of `total` items (work that starts
    in any order, such as the days of networks landed at once)."""
    done = 0

    def progress(what: str) -> None:
        nonlocal done
        done += 1
        log_progress(context, done, total, what)

    return progress
