"""What a person sees in the terminal during `make run`: a line per step as it finishes, progress
while long steps run, and a summary. Dagster's full event stream stays in the run's event log in
$DAGSTER_HOME (`make logs`, or the run's page in `make ui`)."""

from __future__ import annotations

import logging
import re
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from dagster import DagsterEventType

from .progress import PROGRESS_PREFIX

MANY_ASSETS = 4  # a step writing more tables than this (dbt) is summed up, not listed


@dataclass
class StepState:
    started: float | None = None
    notes: list[str] = field(default_factory=list)  # what a step says of itself (e.g. a source skipped)
    rows: dict[str, int | None] = field(default_factory=dict)  # table -> rows (first partition's report)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    check_detail: str = ""
    check_names: list[str] = field(default_factory=list)
    warnings: int = 0
    last_shown: float = 0.0


def _metadata_int(metadata, *names: str) -> int | None:
    for name in names:
        value = metadata.get(name)
        if value is not None and isinstance(getattr(value, "value", None), (int, float)):
            return int(value.value)
    return None


def first_line(text: str | None) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0] if lines else ""


def error_summary(entry) -> str:
    """The first line a person needs from a step failure: the exception, or what caused it."""
    data = entry.dagster_event.event_specific_data
    error = getattr(data, "error", None)
    while error is not None and error.cause is not None and (error.cls_name or "").startswith("Dagster"):
        error = error.cause  # Dagster wraps user errors; the user's exception says what went wrong
    message = error.message if error is not None else entry.message
    return dbt_error(message) or first_line(message)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DBT_ERROR = re.compile(r"^(\w+ Error in \w+ .*|Failure in \w+ .*)$")


def dbt_error(message: str | None) -> str:
    """dbt's own error from a failed dbt invocation ("Compilation Error in model m (path): what"),
    not dagster-dbt's "The dbt CLI process with command ..." preamble; "" when there is none."""
    lines = [_ANSI.sub("", line).strip() for line in (message or "").splitlines()]
    lines = [line for line in lines if line]
    for at, line in enumerate(lines):
        if _DBT_ERROR.match(line) and not line.startswith("Failure in model"):
            detail = lines[at + 1] if at + 1 < len(lines) else ""
            return f"dbt: {line}: {detail}" if detail else f"dbt: {line}"
    return ""


class RunReporter:
    """Turns a run's event log entries into a few readable lines.

    On a terminal, progress is one status line rewritten in place; elsewhere (a log file, CI) a
    progress line is printed at most every `progress_every` seconds per step.
    """

    def __init__(self, window: str, out: TextIO | None = None, tty: bool | None = None, progress_every: float = 20.0):
        self.window = window
        self.out = out or sys.stdout
        self.tty = self.out.isatty() if tty is None else tty
        self.progress_every = progress_every
        self.steps: dict[str, StepState] = {}
        self.finished: list[str] = []
        self.failed_step: str | None = None
        self.failure: str = ""
        self.skipped: list[str] = []
        self.status_shown = False

    # ---- output
    def _clear_status(self) -> None:
        if self.status_shown:
            self.out.write("\r\033[K")
            self.status_shown = False

    def line(self, text: str) -> None:
        self._clear_status()
        self.out.write(text + "\n")
        self.out.flush()

    def progress(self, step: str, text: str, now: float) -> None:
        state = self.steps.setdefault(step, StepState())
        if self.tty:
            self._clear_status()
            self.out.write(f"  ... {step}: {text}"[:150])
            self.status_shown = True
            self.out.flush()
        elif now - max(state.last_shown, state.started or 0.0) >= self.progress_every:
            state.last_shown = now
            self.line(f"  ... {step}: {text}")

    # ---- events
    def handle(self, entry) -> None:
        step = entry.step_key
        now = entry.timestamp
        if not entry.is_dagster_event:
            if step and entry.user_message.startswith(PROGRESS_PREFIX):
                self.progress(step, entry.user_message.removeprefix(PROGRESS_PREFIX), now)
            elif step and entry.user_message.startswith(f"Dependencies for step {step} "):
                self.skipped.append(step)  # Dagster's word for a step left out after an upstream failure
            elif step and isinstance(entry.level, int) and entry.level >= logging.WARNING:
                self.steps.setdefault(step, StepState()).warnings += 1
            return
        event = entry.dagster_event
        kind = event.event_type
        if kind == DagsterEventType.RUN_FAILURE and not self.failed_step:
            self.failure = self.failure or first_line(event.message)
            return
        if not step:
            return
        state = self.steps.setdefault(step, StepState())
        if kind == DagsterEventType.STEP_START:
            state.started = now
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            table = ".".join(materialization.asset_key.path)
            note = materialization.metadata.get("note")
            if note is not None and getattr(note, "value", note) not in state.notes:
                state.notes.append(str(getattr(note, "value", note)))
            if table not in state.rows:
                state.rows[table] = _metadata_int(materialization.metadata, "rows", "dagster/row_count")
                if len(state.rows) > MANY_ASSETS:
                    self.progress(step, f"{len(state.rows)} tables, {state.checks_passed} tests passed", now)
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            state.check_names.append(evaluation.check_name)
            if evaluation.passed:
                state.checks_passed += 1
            else:
                state.checks_failed.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
            expectations = _metadata_int(evaluation.metadata, "expectations")
            rows = _metadata_int(evaluation.metadata, "rows")
            if expectations is not None:
                state.check_detail = f"{expectations} expectations on {rows or 0:,} rows"
        elif kind == DagsterEventType.STEP_SUCCESS:
            self.line(self.step_line(step, state, "ok", now))
            self.finished.append(step)
        elif kind == DagsterEventType.STEP_FAILURE:
            reason = error_summary(entry)
            self.line(self.step_line(step, state, "FAILED", now) + f"\n      {reason}")
            self.finished.append(step)
            if not self.failed_step:
                self.failed_step, self.failure = step, reason
        elif kind == DagsterEventType.STEP_SKIPPED:
            self.skipped.append(step)

    def step_line(self, step: str, state: StepState, verdict: str, now: float) -> str:
        seconds = now - state.started if state.started else 0.0
        name = f"check {state.check_names[0]}" if len(state.check_names) == 1 and not state.rows else step
        return f"  {verdict:<6} {name:<36} {self.window}  {seconds:6.1f} s  {self.describe(state)}".rstrip()

    @staticmethod
    def describe(state: StepState) -> str:
        parts = []
        if len(state.rows) > MANY_ASSETS:
            known = [r for r in state.rows.values() if r is not None]
            parts.append(f"{len(state.rows)} tables" + (f", {sum(known):,} rows" if known else ""))
        elif state.rows:
            parts.append(
                ", ".join(f"{table} {rows:,} rows" if rows is not None else table for table, rows in state.rows.items())
            )
        checks = state.checks_passed + len(state.checks_failed)
        if checks == 1 and not state.rows:
            parts.append(
                ("passed" if state.checks_passed else "FAILED")
                + (f": {state.check_detail}" if state.check_detail else "")
            )
        elif checks:
            parts.append(
                f"{state.checks_passed} tests passed"
                + (f", {len(state.checks_failed)} failed" if state.checks_failed else "")
            )
        parts.extend(state.notes)
        warnings = state.warnings - len(state.notes)  # a note is also logged as a warning
        if warnings > 0:
            parts.append(f"{warnings} warning{'s' if warnings > 1 else ''}")
        return "; ".join(parts)

    # ---- the end
    def summary(self, run_id: str, success: bool, seconds: float, console_log=None) -> str:
        self._clear_status()
        passed = sum(s.checks_passed for s in self.steps.values())
        failed_checks = [c for s in self.steps.values() for c in s.checks_failed]
        warnings = sum(s.warnings for s in self.steps.values())
        tables = sum(len(s.rows) for s in self.steps.values())
        counts = (
            f"{len(self.finished)} steps, {tables} tables written, {passed} checks passed"
            + (f", {len(failed_checks)} failed ({', '.join(failed_checks[:3])})" if failed_checks else "")
            + (f", {warnings} warnings" if warnings else "")
        )
        minutes, secs = divmod(round(seconds), 60)
        took = f"{minutes} min {secs} s" if minutes else f"{secs} s"
        if success:
            return f"Run {run_id} succeeded in {took}: {counts}."
        where = f" at step {self.failed_step}" if self.failed_step else ""
        lines = [f"Run {run_id} FAILED{where} after {took}: {self.failure or 'see the log'}", f"  {counts}"]
        if self.skipped:
            lines.append(
                f"  {len(self.skipped)} steps not run because of it: {', '.join(self.skipped[:4])}"
                + (", ..." if len(self.skipped) > 4 else "")
            )
        lines.append(f"  Full log: make logs RUN={run_id}   (or open the run in `make ui`)")
        if console_log:
            lines.append(f"  Console output of the run: {console_log}")
        return "\n".join(lines)


def format_event(entry) -> str:
    """One event of the full log, as `make logs` prints it; failures carry their whole traceback."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.timestamp))
    level = logging.getLevelName(entry.level) if isinstance(entry.level, int) else str(entry.level)
    kind = entry.dagster_event.event_type_value if entry.is_dagster_event else "LOG"
    text = f"{stamp} {level:<7} {entry.step_key or '-'} {kind} {entry.message}"
    data = entry.dagster_event.event_specific_data if entry.is_dagster_event else None
    error = getattr(data, "error", None) or entry.error_info
    if error is not None:
        text += "\n" + error.to_string()
    return text
