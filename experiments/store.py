"""The result store: one Parquet file per finished run, and a JSON manifest.

Layout of an experiment folder::

    DIR/manifest.json                       spec, seeds, versions, every run's status
    DIR/runs/run_id=<id>/part.parquet       one finished run (Hive-style partition)
    DIR/tmp/                                files being written (never read)
    DIR/cache/runs-<hash>.parquet           the columns last read, for the next reader

Every write goes to a temporary file first and is moved into place with
:func:`os.replace`, so a reader (or a resumed sweep) never sees half a file.
:meth:`Store.read_runs` reads every finished run in one ``pyarrow.dataset`` call (only
the columns asked for) and keeps what it read in one file under ``cache/``, named by a
hash of the finished runs' ids, sizes and modification times: the next reader of the
same runs (the report run again, say) reads that one file instead of one per run, and
any change to the runs makes a new hash, so a stale cache is never read. The store
also reads with ``pandas.read_parquet(DIR / "runs")`` or with DuckDB's
``read_parquet('DIR/runs/*/*.parquet', hive_partitioning = true)``; the partition gives
the ``run_id`` column.
"""

from __future__ import annotations

import functools
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
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.version import Version

MANIFEST = "manifest.json"
#: The lock file of exact package versions that `make` installs from (source checkout).
LOCK_FILE = "requirements.lock"
RUNS = "runs"
PART = "part.parquet"
#: Folder of :meth:`Store.read_runs`' cache of the columns it read (safe to delete).
CACHE = "cache"
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
    versions["cpu"] = cpu_code_paths()
    return versions


def numpy_code_paths() -> list[str]:
    """The faster code paths (CPU features beyond its baseline: AVX2, AVX-512, ...) numpy
    chose at run time on this machine; empty where it runs its baseline code only."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # numpy 1.x
        from numpy.core import _multiarray_umath as umath
    features = getattr(umath, "__cpu_features__", {})
    return [f for f in getattr(umath, "__cpu_dispatch__", []) if features.get(f)]


def cpu_code_paths() -> str:
    """The machine and :func:`numpy_code_paths`, e.g.
    ``"x86_64; numpy X86_V3 X86_V4 AVX512_ICL AVX512_SPR"``: numpy's ``exp``, ``pow`` and
    sums (and glibc's) differ in their last bits between such paths, so a run repeated on
    another CPU has the same events but may differ there (docs/experiments.md)."""
    paths = " ".join(numpy_code_paths()) or "baseline only"
    return f"{platform.machine() or 'unknown machine'}; numpy {paths}"


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


_SOURCE_HASH: str | None = None


def model_source_hash() -> str:
    """SHA-256 of the source of the packages ``model`` and ``agents`` (first 16 hex digits).

    Computed once per process, close to when the model was imported: the code a process
    runs is the code it imported, even if a file is edited later.
    """
    global _SOURCE_HASH
    if _SOURCE_HASH is None:
        root = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256()
        for package in ("model", "agents"):
            for path in sorted((root / package).rglob("*.py")):
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
        _SOURCE_HASH = digest.hexdigest()[:16]
    return _SOURCE_HASH


@functools.cache
def _numerical_versions() -> tuple[tuple[str, str], ...]:
    """Versions of the packages a run's numbers depend on (read once per process)."""
    out = []
    for name in ("mesa", "numpy", "numba", "scipy"):
        try:
            out.append((name, version(name)))
        except PackageNotFoundError:
            out.append((name, "none"))
    return tuple(out)


def fingerprint_parts(plugins: list[str] | None = None) -> dict[str, Any]:
    """What a run's numbers depend on besides its parameters and seed: the source of
    ``model`` and ``agents``, the versions of the numerical packages, and the plugins the
    run loads (by content hash; see :mod:`model.plugins`).

    Args:
        plugins: Keys of the run's plugins (:attr:`model.plugins.LoadedPlugin.name`);
            None for every plugin loaded in this process.
    """
    from model.plugins import loaded_plugins

    return {
        "model_source": model_source_hash(),
        "packages": dict(_numerical_versions()),
        "plugins": [
            {"name": p.name, "sha256": p.sha256}
            for p in loaded_plugins()
            if plugins is None or p.name in plugins
        ],
    }


def model_fingerprint(parts: dict[str, Any] | None = None) -> str:
    """A short hash of :func:`fingerprint_parts`.

    Two runs with the same parameters, seed and fingerprint give the same numbers; a
    commit that changes only docs, tests or the experiment tools keeps the fingerprint,
    an edit of a rule or of a plugin changes it. Plugins count by content, not by path,
    so a Dask worker that has the same plugin elsewhere gives the same fingerprint.
    """
    parts = parts if parts is not None else fingerprint_parts()
    digest = hashlib.sha256(parts["model_source"].encode())
    for name, value in sorted(parts["packages"].items()):
        digest.update(f"{name}={value}".encode())
    for sha in sorted(p["sha256"] for p in parts["plugins"]):
        digest.update(f"plugin={sha}".encode())
    return digest.hexdigest()[:16]


def model_code_hash(parts: dict[str, Any] | None = None) -> str:
    """A short hash of the model's code alone: the source of ``model`` and ``agents`` and
    the plugins' content, without the numerical packages' versions.

    :func:`model_fingerprint` says whether two runs give the *same numbers* (so it counts
    numpy's or Mesa's version); this says whether parameter sets calibrated on one install
    are plausible for another: the same rules on Python 3.11 with Mesa 3.3 and on 3.13 with
    Mesa 3.5 are the same model, whose runs differ only in their random draws' rounding.
    """
    parts = parts if parts is not None else fingerprint_parts()
    digest = hashlib.sha256(parts["model_source"].encode())
    for sha in sorted(p["sha256"] for p in parts["plugins"]):
        digest.update(f"plugin={sha}".encode())
    return digest.hexdigest()[:16]


def explain_fingerprint_change(before: dict[str, Any] | None, now: dict[str, Any]) -> str:
    """Plain words for what differs between two :func:`fingerprint_parts` records."""
    if not before:
        return "the folder does not record what its fingerprint was made of"
    changes = []
    if before.get("model_source") != now["model_source"]:
        changes.append("the source of model/ or agents/ changed")
    for name, value in now["packages"].items():
        old = before.get("packages", {}).get(name)
        if old != value:
            changes.append(f"{name} {old} -> {value}")
    old_plugins = {p["name"]: p["sha256"] for p in before.get("plugins", [])}
    new_plugins = {p["name"]: p["sha256"] for p in now["plugins"]}
    for name in sorted(set(old_plugins) | set(new_plugins)):
        label = Path(name).name
        if name not in new_plugins:
            changes.append(f"plugin {label} is no longer loaded")
        elif name not in old_plugins:
            changes.append(f"plugin {label} is new")
        elif old_plugins[name] != new_plugins[name]:
            changes.append(
                f"plugin {label} changed (sha256 {old_plugins[name][:12]} -> "
                f"{new_plugins[name][:12]})"
            )
    return "; ".join(changes) or "nothing recorded differs"


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


def _read_umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and put back (done once, at import)
    os.umask(mask)
    return mask


#: Mode of the files civic-sim writes: what ``open()`` would give (0666 less the umask),
#: not the 0600 of a temporary file, so colleagues who may read the folder can.
FILE_MODE = 0o666 & ~_read_umask()


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
        os.chmod(tmp, FILE_MODE)
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
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ascending(values: pa.ChunkedArray) -> bool:
    """Whether a column's values never decrease."""
    if len(values) < 2:
        return True
    return bool(pc.all(pc.less_equal(values[:-1], values[1:])).as_py())


def columns_signature(frame: pd.DataFrame) -> str:
    """A short hash of a run table's column names and types, recorded with the run in the
    manifest: runs with the same signature have the same Parquet schema, so reading a
    store inspects one file of each signature instead of every file's footer."""
    text = "|".join(f"{name}:{dtype}" for name, dtype in frame.dtypes.items())
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


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
        manifest = manifest if manifest is not None else self.read_manifest()
        ids = tuple(sorted(self.done_run_ids(manifest)))
        if not ids:
            raise ValueError(f"{str(self.root)!r} holds no finished runs")
        if self._dataset is not None and self._dataset[0] == ids:
            return self._dataset[1]
        partition = pa.schema([("run_id", pa.string())])
        factory = ds.FileSystemDatasetFactory(
            pafs.LocalFileSystem(),
            [self.run_path(run_id).as_posix() for run_id in ids],
            ds.ParquetFileFormat(),
            ds.FileSystemFactoryOptions(
                partition_base_dir=self.runs_dir.as_posix(),
                partitioning=ds.partitioning(partition, flavor="hive"),
            ),
        )
        # one file of each column signature the manifest records (every file's footer when
        # a run has none: a store written before signatures were recorded)
        signatures = [manifest["runs"][run_id].get("columns") for run_id in ids]
        if all(signatures):
            one_of_each = dict(zip(signatures, ids, strict=True))  # a run of each signature
            schemas = [pq.read_schema(self.run_path(run_id)) for run_id in one_of_each.values()]
            schema = pa.unify_schemas([*schemas, partition], promote_options="permissive")
        else:
            schema = factory.inspect(promote_options="permissive")
        dataset = factory.finish(schema)
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
        manifest = manifest if manifest is not None else self.read_manifest()
        asked = None if columns is None else [c for c in dict.fromkeys(columns) if c != "run_id"]
        key = self._runs_key(manifest) if asked is not None else None
        if key is not None:
            cached = self._read_cache(key, asked)
            if cached is not None:
                return cached
        dataset = self.dataset(manifest)
        held = [n for n in dataset.schema.names if n != "run_id"]
        wanted = held if asked is None else asked
        missing = [c for c in wanted if c not in held]
        if missing:
            raise ValueError(f"the store does not hold the column(s) {', '.join(missing)}")
        # what an earlier read cached stays cached (one file serves the report and others),
        # read again from the runs if they changed since
        kept = [c for c in self._cached_names() if c in held]
        table = dataset.to_table(columns=list(dict.fromkeys(["run_id", *wanted, *kept])))
        if not _ascending(table.column("run_id")):  # fragments come back in order
            table = table.sort_by("run_id")  # a stable sort
        if key is not None:
            self._write_cache(key, table)
        return table.select(["run_id", *wanted]).to_pandas()

    # --- a cache of the columns read, for the next reader ---------------------------------
    @property
    def cache_dir(self) -> Path:
        """Folder of :meth:`read_runs`' cache (safe to delete at any time)."""
        return self.root / CACHE

    def _runs_key(self, manifest: dict[str, Any] | None) -> str | None:
        """A hash of the finished runs as they are on disk (those of
        :meth:`done_run_ids`): each one's id, file size and modification time (so a run
        rerun, replaced or edited by hand changes it); None if a run's file cannot be
        read."""
        runs = (manifest or {}).get("runs", {})
        digest = hashlib.sha256(f"format {FORMAT}\n".encode())
        for run_id in sorted(r for r, run in runs.items() if run.get("status") == "done"):
            try:
                info = os.stat(self.run_path(run_id))  # one call: exists, size and time
            except FileNotFoundError:
                continue  # recorded as done but not stored: not a finished run
            except OSError:
                return None
            digest.update(f"{run_id}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:20]

    def _read_cache(self, key: str, columns: list[str]) -> pd.DataFrame | None:
        """``run_id`` and ``columns`` from the cache file made for exactly these finished
        runs; None if there is none, it lacks a column, or it is damaged (then the runs
        are read, and the cache written anew)."""
        path = self.cache_dir / f"runs-{key}.parquet"
        if not path.is_file():
            return None
        try:
            if not set(columns) <= set(pq.read_schema(path).names):
                return None
            table = pq.read_table(path, columns=["run_id", *columns])
        except (OSError, pa.ArrowException):
            return None
        return table.select(["run_id", *columns]).to_pandas()

    def _cached_names(self) -> list[str]:
        """The columns of the cache file there is, whichever runs it was made for."""
        for path in sorted(self.cache_dir.glob("runs-*.parquet")):
            try:
                return pq.read_schema(path).names
            except (OSError, pa.ArrowException):
                continue
        return []

    def _write_cache(self, key: str, table: pa.Table) -> None:
        """Keep ``table`` (the finished runs' columns just read) for the next reader, in
        place of any older cache; nothing is written where the folder is read-only."""
        path = self.cache_dir / f"runs-{key}.parquet"
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        try:
            atomic_write_bytes(path, sink.getvalue().to_pybytes())
            for old in self.cache_dir.glob("runs-*.parquet"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError:
            return  # a read-only folder: readers simply read the runs again
