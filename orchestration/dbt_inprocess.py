"""dbt in the run's own process, on a parsed manifest kept for the process (issue 20, item 2).

dagster-dbt runs every dbt command as a subprocess: each start pays Python and dbt's import, and a
new partition window in `--vars` makes dbt throw its partial parse away and re-parse the whole
project (dbt-core issues 6323, 10578). `InProcessDbtResource` runs the same command with dbt's
programmatic `dbtRunner`, handing it a `Manifest` parsed once per process (with the project's
default vars, so dbt's partial parse of `dbt parse`'s state applies): the window still goes in
`--vars`, which dbt reads when it compiles each node, so the SQL, the unit tests' own `vars:` and
the results are those of the CLI. Everything Dagster sees is dagster-dbt's own: the selection
args for the context, and a `DbtCliInvocation` that reads dbt's structured events (the JSON lines
the CLI prints, built from the same `EventMsg`s) from an in-process stand-in for the subprocess.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import queue
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, OpExecutionContext
from dagster_dbt import DbtCliResource
from dagster_dbt.asset_utils import extract_runtime_selection_from_args, get_updated_cli_invocation_params_for_context
from dagster_dbt.core.dbt_cli_invocation import PARTIAL_PARSE_FILE_NAME, DbtCliInvocation, _get_dbt_target_path
from dagster_dbt.dagster_dbt_translator import DagsterDbtTranslator, validate_opt_translator
from dagster_dbt.dbt_manifest import DbtManifestParam, validate_manifest
from packaging import version

# dbt keeps its flags, adapter and event manager in process globals: one invocation at a time.
_DBT_LOCK = threading.Lock()
_MANIFESTS: dict[tuple, Any] = {}
_DONE = object()


def _profile_env() -> tuple:
    """What the parsed manifest depends on besides the project files: profiles.yml reads KLOUT_* (the
    warehouse path names the nodes' database) and dbt reads DBT_*."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("KLOUT_", "DBT_"))))


class _Lines:
    """The subprocess's stdout as DbtCliInvocation reads it: an iterable of byte lines, closed at the end."""

    def __init__(self) -> None:
        self._queue: queue.Queue = queue.Queue()
        self.closed = False

    def put(self, line: str) -> None:
        self._queue.put(line.encode() + b"\n")

    def finish(self) -> None:
        self._queue.put(_DONE)

    def __iter__(self) -> Iterator[bytes]:
        while (item := self._queue.get()) is not _DONE:
            yield item

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc) -> None:
        self.closed = True


class InProcessDbt:
    """Stands in for the `subprocess.Popen` a `DbtCliInvocation` holds: runs `dbtRunner(manifest).invoke(args)`
    on a thread and feeds dbt's events, as the JSON lines the CLI prints at its default (info) level,
    to `stdout`. `returncode` is the CLI's: 0 success, 1 failed nodes, 2 an error."""

    def __init__(self, executable: str, args: Sequence[str], manifest_loader) -> None:
        self.args = [executable, *args]
        self.stdout = _Lines()
        self.returncode: int | None = None
        self._done = False
        self._errors = 0
        # Garbage the caller left (a finished run's SQLite-backed instance, say) is collected here, in
        # its own thread: collected in dbt's, SQLAlchemy would log that SQLite objects crossed threads.
        gc.collect()
        self._thread = threading.Thread(target=self._run, args=(list(args), manifest_loader), daemon=True)
        self._thread.start()

    def _callback(self, msg) -> None:
        from dbt_common.events.functions import msg_to_json

        if not self._done and msg.info.level != "debug":
            self._errors += msg.info.level == "error"
            self.stdout.put(msg_to_json(msg))

    def _run(self, args: list[str], manifest_loader) -> None:
        from dbt.cli.main import dbtRunner

        try:
            with _DBT_LOCK:
                try:
                    result = dbtRunner(manifest=manifest_loader(), callbacks=[self._callback]).invoke(args)
                finally:
                    _release_warehouse()
            self.returncode = 0 if result.success else (2 if result.exception is not None else 1)
            if result.exception is not None and not self._errors:
                self.stdout.put(_error_line(f"{type(result.exception).__name__}: {result.exception}"))
        except BaseException as e:  # noqa: BLE001 - reported as the CLI reports a crash: exit 2, an error event
            self.returncode = 2
            self.stdout.put(_error_line(f"{type(e).__name__}: {e}"))
        finally:
            self._done = True
            self.stdout.finish()

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.returncode

    def poll(self) -> int | None:
        return None if self._thread.is_alive() else self.returncode

    def send_signal(self, _signal) -> None:
        """Interrupt dbt as Ctrl-C does the CLI: a KeyboardInterrupt in its thread (dbt then cancels
        its open queries and stops)."""
        if self._thread.is_alive():
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(self._thread.ident), ctypes.py_object(KeyboardInterrupt)
            )


def _release_warehouse() -> None:
    """Close the DuckDB database dbt opened. dbt-duckdb keeps it open in the process after a command
    (its environment is a class attribute), and the run's next steps open the same file with another
    configuration, which DuckDB refuses while that one is open; the subprocess closed it by exiting."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    from dbt.adapters.factory import reset_adapters

    reset_adapters()
    with DuckDBConnectionManager._LOCK:
        env, DuckDBConnectionManager._ENV = DuckDBConnectionManager._ENV, None
    if env is not None:
        env.close()


def _error_line(message: str) -> str:
    """An error-level event in dbt's JSON log shape, so dagster-dbt lists it among dbt's errors."""
    return json.dumps({"info": {"level": "error", "msg": message, "name": "MainEncounteredError"}, "data": {}})


class InProcessDbtResource(DbtCliResource):
    """`DbtCliResource` whose `cli` runs dbt in this process on a manifest parsed once per process
    (see the module docstring). Falls back to the subprocess when dagster-dbt moves the command to a
    temporary copy of the project (a selection too long for the command line)."""

    def _load_manifest(self, project_dir: Path, target_path: Path):
        """The project's `Manifest`, parsed once per process and environment (`_profile_env`): by dbt's
        partial parse of the project's `partial_parse.msgpack` when it matches, as dagster-dbt seeds it."""
        key = (str(project_dir), str(self.profiles_dir), self.profile, self.target, _profile_env())
        if key not in _MANIFESTS:
            from dbt.cli.main import dbtRunner

            seed = _get_dbt_target_path()
            seed = (seed if seed.is_absolute() else project_dir / seed) / PARTIAL_PARSE_FILE_NAME
            parse_target = target_path / "parse"
            parse_target.mkdir(parents=True, exist_ok=True)
            if seed.exists():
                shutil.copy(seed, parse_target / PARTIAL_PARSE_FILE_NAME)
            args = ["parse", *self._location_args(project_dir, parse_target), "--log-level", "none"]
            result = dbtRunner().invoke(args)
            if not result.success:
                raise RuntimeError(f"dbt parse failed: {result.exception}")
            _MANIFESTS[key] = result.result
        return _MANIFESTS[key]

    def _location_args(self, project_dir: Path, target_path: Path) -> list[str]:
        """The CLI flags for what dagster-dbt hands the subprocess in its environment (DBT_*_PATH/DIR)."""
        profiles = ["--profiles-dir", str(self.profiles_dir)] if self.profiles_dir else []
        return [
            "--project-dir",
            str(project_dir),
            *profiles,
            "--target-path",
            str(target_path),
            "--log-path",
            str(target_path),
        ]

    def cli(
        self,
        args: Sequence[str],
        *,
        raise_on_error: bool = True,
        manifest: DbtManifestParam | None = None,
        dagster_dbt_translator: DagsterDbtTranslator | None = None,
        context: OpExecutionContext | AssetExecutionContext | None = None,
        target_path: Path | None = None,
    ) -> DbtCliInvocation:
        translator = validate_opt_translator(dagster_dbt_translator) or DagsterDbtTranslator()
        cleaned_args, runtime_selects, runtime_excludes = extract_runtime_selection_from_args(args)
        params = get_updated_cli_invocation_params_for_context(
            context=context,
            manifest=validate_manifest(manifest) if manifest else {},
            dagster_dbt_translator=translator,
            runtime_selects=runtime_selects,
            runtime_excludes=runtime_excludes,
        )
        project_dir = Path(params.dbt_project.project_dir if params.dbt_project else self.project_dir)
        if project_dir.resolve() != Path(self.project_dir).resolve():
            shutil.rmtree(project_dir, ignore_errors=True)  # dagster-dbt's temporary copy; the CLI makes its own
            return super().cli(
                args,
                raise_on_error=raise_on_error,
                manifest=manifest,
                dagster_dbt_translator=dagster_dbt_translator,
                context=context,
                target_path=target_path,
            )
        target_path = target_path or self._get_unique_target_path(context=context)
        if not target_path.is_absolute():
            target_path = project_dir / target_path
        profile_args = [*(["--profile", self.profile] if self.profile else [])]
        profile_args += ["--target", self.target] if self.target else []
        # dagster-dbt sets DBT_INDIRECT_SELECTION for the subprocess; only build and test take the flag
        takes_indirect = any(a in ("build", "test") for a in cleaned_args[:1])
        indirect = (
            ["--indirect-selection", params.indirect_selection] if params.indirect_selection and takes_indirect else []
        )
        full_args = [
            *self.global_config_flags,
            *cleaned_args,
            *profile_args,
            *params.selection_args,
            *indirect,
            *self._location_args(project_dir, target_path),
            "--log-level",
            "none",  # dbt prints nothing itself: dagster-dbt echoes each event, as it does the subprocess's
        ]
        from dbt.version import __version__ as dbt_version

        invocation = DbtCliInvocation(
            process=InProcessDbt(self.dbt_executable, full_args, lambda: self._load_manifest(project_dir, target_path)),  # type: ignore[arg-type]
            manifest=params.manifest,
            dagster_dbt_translator=params.dagster_dbt_translator,
            project_dir=project_dir,
            target_path=target_path,
            raise_on_error=raise_on_error,
            context=context,
            adapter=None,
            cli_version=version.parse(dbt_version),
            project=params.dbt_project,
        )
        return invocation
