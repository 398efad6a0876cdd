"""Launching a single-run backfill from the command line, recorded in $DAGSTER_HOME like a UI run.

The run executes in this process (the Definitions use the in-process executor) while a watcher
thread reads its event log and hands each new entry to a `RunReporter`, so the terminal gets a
few readable lines and the event log keeps everything.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dagster import AssetSelection, DagsterInstance, RunsFilter, execute_job
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository

from .console import RunReporter
from .warehouse import REPO_ROOT

CLI_TOKEN_TAG = "klout/cli_launch"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def global_asset_job(defs) -> ReconstructableJob:
    """The implicit job of every asset, reconstructable from this module's `defs`: the job
    `dagster asset materialize` runs (Dagster offers no public constructor for it)."""
    repository = ReconstructableRepository.for_module(
        "orchestration.definitions", "defs", working_directory=str(REPO_ROOT)
    )
    return repository.get_reconstructable_job(defs.resolve_implicit_global_asset_job_def().name)


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    summary: str
    console_log: Path


@contextmanager
def terminal_diverted_to(path: Path):
    """Send this process's stdout and stderr (Dagster's console logger, dbt's echo, progress bars
    of libraries) to `path`, and yield a stream that still reaches the terminal."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", buffering=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            terminal.close()


class RunWatcher(threading.Thread):
    """Follows the run tagged with `token` in the instance's event log until stopped."""

    def __init__(self, instance: DagsterInstance, token: str, reporter: RunReporter, poll_seconds: float = 0.5):
        super().__init__(daemon=True, name="run-watcher")
        self.instance, self.token, self.reporter, self.poll_seconds = instance, token, reporter, poll_seconds
        self.run_id: str | None = None
        self.cursor: str | None = None
        self._stop_event = threading.Event()

    def poll(self) -> None:
        if self.run_id is None:
            runs = self.instance.get_runs(filters=RunsFilter(tags={CLI_TOKEN_TAG: self.token}), limit=1)
            if not runs:
                return
            self.run_id = runs[0].run_id
        while True:
            page = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, limit=500)
            for record in page.records:
                self.reporter.handle(record.event_log_entry)
            self.cursor = page.cursor
            if not page.has_more:
                return

    def run(self) -> None:
        while not self._stop_event.wait(self.poll_seconds):
            self.poll()

    def finish(self) -> None:
        """Stop following and read whatever the run wrote since the last poll."""
        self._stop_event.set()
        self.join()
        self.poll()


def launch(
    selection: AssetSelection, first: date, last: date, op_config: dict | None = None, progress_every: float = 20.0
) -> RunOutcome:
    """One single-run backfill of `selection` over [first, last]; the terminal gets a reporter's
    lines, and everything the run prints goes to $DAGSTER_HOME/logs/<run id>.log."""
    home = os.getenv("DAGSTER_HOME")
    if not home:
        raise SystemExit("DAGSTER_HOME is not set: run through `make` (it keeps run history in ./.dagster_home)")
    from .definitions import defs

    instance = DagsterInstance.get()
    keys = selection.resolve(defs.resolve_asset_graph())
    token = uuid.uuid4().hex
    console_log = Path(home) / "logs" / f"{token}.log"
    started = time.monotonic()
    with terminal_diverted_to(console_log) as terminal:
        reporter = RunReporter(f"{first.isoformat()}...{last.isoformat()}", out=terminal, progress_every=progress_every)
        watcher = RunWatcher(instance, token, reporter)
        watcher.start()
        try:
            result = execute_job(
                global_asset_job(defs),
                instance=instance,
                run_config={"ops": op_config} if op_config else {},
                tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat(), CLI_TOKEN_TAG: token},
                asset_selection=list(keys),
                raise_on_error=False,
            )
        finally:
            watcher.finish()
    run_id = result.run_id
    console_log = console_log.rename(console_log.with_name(f"{run_id}.log"))
    summary = reporter.summary(run_id, result.success, time.monotonic() - started, console_log)
    return RunOutcome(run_id, result.success, summary, console_log)
