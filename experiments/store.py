"""The result store: one Parquet file per finished run, and a JSON manifest.

Layout of an experiment folder::

    DIR/manifest.json                       spec, seeds, versions, every run's status
    DIR/runs/run_id=<id>/part.parquet       one finished run (Hive-style partition)
    DIR/tmp/                                files being written (never read)

Every write goes to a temporary file first and is moved into place with
:func:`os.replace`, so a reader (or a resumed sweep) never sees half a file.
:meth:`Store.read_runs` reads every finished run in one ``pyarrow.dataset`` call (only
the columns asked for); the store also reads with ``pandas.read_parquet(DIR / "runs")``
or with DuckDB's ``read_parquet('DIR/runs/*/*.parquet', hive_partitioning = true)``; the
partition gives the ``run_id`` column.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.version import Version

MANIFEST = "manifest.json"
#: The lock file of exact package versions that `make` installs from (source checkout).
LOCK_FILE = "requirements.lock"
RUNS = "runs"
PART = "part.parquet"
FORMAT = 1


def now() -> str:
    """Return the current UTC time in ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages results depend on, and the lock file.

    ``requirements.lock`` names the lock file's hash and whether this environment holds
    exactly the versions it pins (:func:`lock_file_status`), so a report can be rebuilt
    in the same environment later (``make setup`` installs from the lock file).
    """
    versions = {"python": platform.python_version()}
    for name in ("civic-sim", "mesa", "numpy", "numba", "pandas", "scipy", "pyarrow"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    versions[LOCK_FILE] = lock_file_status()
    return versions


def lock_file_status(path: Path | None = None) -> str:
    """``sha256:<hash>`` of the lock file and whether this environment matches it.

    Returns:
        For example ``"sha256:3f2a... (environment matches)"``, or ``"... (environment
        differs: mesa 3.5.0 installed, 3.5.1 locked)"``, or ``"not found"`` (an install
        that is not a source checkout has no lock file).
    """
    path = path or Path(__file__).resolve().parent.parent / LOCK_FILE
    try:
        text = path.read_bytes()
    except OSError:
        return "not found"
    digest = hashlib.sha256(text).hexdigest()
    env = default_environment()
    differs = []
    for line in text.decode("utf-8").splitlines():
        if not line.strip() or line[0] in "# ":
            continue
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        pinned = next(iter(req.specifier)).version
        try:
            have = version(req.name)
        except PackageNotFoundError:
            continue  # an extra not installed here (the page, Dask, the test tools)
        if Version(have) != Version(pinned):
            differs.append(f"{req.name} {have} installed, {pinned} locked")
    state = "environment matches" if not differs else "environment differs: " + ", ".join(differs)
    return f"sha256:{digest} ({state})"


def model_fingerprint() -> str:
    """A short hash of what a run's numbers depend on: the source of the packages
    ``model`` and ``agents``, and the versions of the numerical packages.

    Two runs with the same parameters, seed and fingerprint give the same numbers; a
    commit that changes only docs, tests or the experiment tools keeps the fingerprint.
    """
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for package in ("model", "agents"):
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    for name in ("mesa", "numpy", "numba", "scipy"):
        try:
            digest.update(f"{name}={version(name)}".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=none".encode())
    return digest.hexdigest()[:16]


def git_commit() -> str | None:
    """Return the git commit of the source (with ``-dirty`` if it has changes)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def ensure_writable_folder(folder: Path) -> None:
    """Create ``folder`` (and parents) and check a file can be written in it.

    Raises:
        ValueError: Naming the folder and the reason, if it cannot be used.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(f"cannot write in {str(folder)!r}: {exc.strerror or exc}") from None


def atomic_write_bytes(path: Path, data: bytes, tmp_dir: Path | None = None) -> None:
    """Write bytes to ``path`` through a temporary file and :func:`os.replace`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = tmp_dir or path.parent
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_frame(frame: pd.DataFrame, path: Path, tmp_dir: Path | None = None) -> None:
    """Write a DataFrame atomically as Parquet or CSV (by the file's extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = tmp_dir or path.parent
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=tmp_dir)
    os.close(fd)
    try:
        if path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Store:
    """An experiment folder: the runs and the manifest.

    Args:
        root: The folder (created when something is written).
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._dataset: tuple[tuple[str, ...], ds.Dataset] | None = None

    @property
    def manifest_path(self) -> Path:
        """Path of the manifest."""
        return self.root / MANIFEST

    @property
    def runs_dir(self) -> Path:
        """Folder holding one partition per run."""
        return self.root / RUNS

    @property
    def tmp_dir(self) -> Path:
        """Folder for files being written."""
        return self.root / "tmp"

    def run_path(self, run_id: str) -> Path:
        """Parquet file of one run."""
        return self.runs_dir / f"run_id={run_id}" / PART

    def has_run(self, run_id: str) -> bool:
        """Whether the run's file exists."""
        return self.run_path(run_id).is_file()

    def write_run(self, run_id: str, frame: pd.DataFrame) -> Path:
        """Write one run's table atomically; return its path."""
        path = self.run_path(run_id)
        write_frame(frame, path, self.tmp_dir)
        return path

    def read_manifest(self) -> dict[str, Any] | None:
        """Read the manifest (None if there is none yet).

        Raises:
            ValueError: If the manifest exists but cannot be read.
        """
        if not self.manifest_path.is_file():
            return None
        try:
            return json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(
                f"manifest {str(self.manifest_path)!r} cannot be read: {exc}"
            ) from None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        """Rewrite the manifest atomically."""
        manifest["updated"] = now()
        data = json.dumps(manifest, indent=1, sort_keys=False, default=str).encode("utf-8")
        atomic_write_bytes(self.manifest_path, data, self.tmp_dir)

    def done_run_ids(self, manifest: dict[str, Any] | None = None) -> list[str]:
        """List the runs recorded as done whose file exists."""
        manifest = manifest if manifest is not None else self.read_manifest()
        if not manifest:
            return []
        return [
            run_id
            for run_id, run in manifest.get("runs", {}).items()
            if run.get("status") == "done" and self.has_run(run_id)
        ]

    def dataset(self, manifest: dict[str, Any] | None = None) -> ds.Dataset:
        """The finished runs as one ``pyarrow.dataset`` (``run_id`` from the partition).

        Its schema is the union of every run file's columns (a run without a column, for
        instance one made before a plugin added a metric, reads as nulls there). The
        dataset is kept until the set of finished runs changes.

        Args:
            manifest: The manifest, if already read.

        Raises:
            ValueError: If the store holds no finished run.
        """
        ids = tuple(sorted(self.done_run_ids(manifest)))
        if not ids:
            raise ValueError(f"{str(self.root)!r} holds no finished runs")
        if self._dataset is not None and self._dataset[0] == ids:
            return self._dataset[1]
        factory = ds.FileSystemDatasetFactory(
            pafs.LocalFileSystem(),
            [self.run_path(run_id).as_posix() for run_id in ids],
            ds.ParquetFileFormat(),
            ds.FileSystemFactoryOptions(
                partition_base_dir=self.runs_dir.as_posix(),
                partitioning=ds.partitioning(pa.schema([("run_id", pa.string())]), flavor="hive"),
            ),
        )
        dataset = factory.finish(factory.inspect(promote_options="permissive"))
        self._dataset = (ids, dataset)
        return dataset

    def columns(self, manifest: dict[str, Any] | None = None) -> list[str]:
        """The columns the store holds (``run_id`` first)."""
        names = self.dataset(manifest).schema.names
        return ["run_id", *(n for n in names if n != "run_id")]

    def read_runs(
        self, columns: list[str] | None = None, manifest: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """All finished runs as one DataFrame, read in one call, in ``run_id`` order.

        Args:
            columns: Columns to read (``run_id`` is always included, first); None for all.
            manifest: The manifest, if already read.

        Raises:
            ValueError: If the store holds no finished run, or not a requested column.
        """
        dataset = self.dataset(manifest)
        held = [n for n in dataset.schema.names if n != "run_id"]
        wanted = held if columns is None else [c for c in columns if c != "run_id"]
        missing = [c for c in wanted if c not in held]
        if missing:
            raise ValueError(f"the store does not hold the column(s) {', '.join(missing)}")
        frame = dataset.to_table(columns=["run_id", *wanted]).to_pandas()
        if not frame["run_id"].is_monotonic_increasing:  # fragments come back in order
            frame = frame.sort_values("run_id", kind="stable", ignore_index=True)
        return frame
