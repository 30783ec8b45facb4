"""Ensemble files: the plausible parameter sets a calibration found, as Parquet.

One row per member (a plausible world): ``member``, ``weight`` (they sum to 1: equal
weights from history matching, importance weights from ABC-SMC), ``wave`` (history
matching: the wave that ran it) or ``population`` and ``distance`` (ABC-SMC: its last
population and each particle's distance), ``max_implausibility``, one column per
calibrated parameter and ``target:<name>`` columns with the member's simulated target
values (calibration and held-out targets). The Parquet file's key-value metadata (key
``civic_sim_ensemble``, JSON) records what made it: the model fingerprint, the git commit,
the calibration spec and its targets, the parameters and their prior ranges, and the
command that regenerates it.

An ensemble is tied to the model that made it: :func:`read_ensemble` refuses a file whose
model fingerprint differs from the running model's (``allow_other_model`` lets a user
look at an old file anyway; the design type ``ensemble`` never does).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

META_KEY = b"civic_sim_ensemble"
TARGET_PREFIX = "target:"
#: Columns of an ensemble file that are not parameters.
RESERVED_COLUMNS = ("member", "weight", "wave", "population", "distance", "max_implausibility")


class EnsembleError(ValueError):
    """A problem with an ensemble file; the message names the file and what to do."""


def write_ensemble(frame: pd.DataFrame, path: Path, meta: dict[str, Any]) -> Path:
    """Write an ensemble (atomically) with its metadata.

    Args:
        frame: One row per member (see the module docstring for the columns).
        path: The Parquet file.
        meta: What made it (JSON-able); must hold ``model_fingerprint`` and ``parameters``.
    """
    from experiments.store import atomic_write_bytes

    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[META_KEY] = json.dumps(meta, sort_keys=True, default=str).encode("utf-8")
    table = table.replace_schema_metadata(schema_meta)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    atomic_write_bytes(Path(path), sink.getvalue().to_pybytes())
    return Path(path)


def file_hash(path: Path) -> str:
    """``sha256`` of the file, first 16 hex digits (the report names the ensemble by it)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def read_ensemble(path: str | Path, allow_other_model: bool = False):
    """Read an ensemble file and its metadata.

    Returns:
        ``(frame, meta)``.

    Raises:
        EnsembleError: If the file is missing, not an ensemble, empty, or made by another
            version of the model (unless ``allow_other_model``).
    """
    from experiments.store import model_code_hash, model_fingerprint

    path = Path(path)
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise EnsembleError(f"no such ensemble file {str(path)!r}") from None
    except (OSError, pa.ArrowInvalid) as exc:
        raise EnsembleError(f"{str(path)!r} is not a Parquet file: {exc}") from None
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise EnsembleError(
            f"{str(path)!r} is not an ensemble file (no civic_sim_ensemble metadata); "
            "make one with 'civic-sim calibrate SPEC'"
        )
    meta = json.loads(raw)
    frame = table.to_pandas()
    if not len(frame):
        raise EnsembleError(f"{str(path)!r} holds no parameter sets")
    # Plausibility belongs to the model's code, not to the numerical packages' versions
    # (the same rules under Mesa 3.3 or 3.5 are the same model); files from before the
    # code hash was recorded are checked by the whole fingerprint.
    if "model_code" in meta:
        now, made_by = model_code_hash(), meta["model_code"]
    else:
        now, made_by = model_fingerprint(), meta.get("model_fingerprint")
    if made_by != now and not allow_other_model:
        raise EnsembleError(
            f"{str(path)!r} was calibrated on another version of the model (fingerprint "
            f"{made_by}; now {now}), so its parameter sets are not known to be plausible for "
            f"this one; regenerate it with: {meta.get('command', 'civic-sim calibrate SPEC')}"
        )
    missing = [c for c in ("member", "weight") if c not in frame.columns]
    if missing:
        raise EnsembleError(f"{str(path)!r} lacks the column(s) {', '.join(missing)}")
    return frame, meta


def parameter_columns(frame: pd.DataFrame) -> list[str]:
    """The parameter columns of an ensemble frame."""
    return [
        c for c in frame.columns if c not in RESERVED_COLUMNS and not c.startswith(TARGET_PREFIX)
    ]


def choose_members(
    frame: pd.DataFrame, sample: int | None, seed: int
) -> tuple[list[int], list[float]]:
    """Which members a design uses, and the weight each world carries in the report
    (the report normalises them).

    * ``sample`` None (or at least the number of members): every member, with its
      weight.
    * Equal weights (history matching): ``sample`` members drawn without replacement
      (seeded), each with its (equal) weight.
    * Unequal weights (ABC-SMC's importance weights): ``sample`` draws with replacement
      in proportion to the weights (a multinomial resample, seeded); a member drawn ``k``
      times runs once and weighs ``k / sample``, so the worlds' weighted answers estimate
      the same posterior expectations as the full weighted ensemble (drawing without
      replacement by weight and then weighting again would count the weights twice).

    Returns:
        The members in member order and their weights.
    """
    members = frame["member"].to_numpy()
    raw = frame["weight"].to_numpy(dtype=float)
    if sample is None or sample >= len(frame):
        return [int(m) for m in members], [float(w) for w in raw]
    weights = raw / raw.sum()
    rng = np.random.default_rng(seed)
    if np.allclose(weights, weights[0]):
        picked = sorted(rng.choice(len(frame), size=sample, replace=False, p=weights))
        return [int(members[i]) for i in picked], [float(raw[i]) for i in picked]
    counts = rng.multinomial(sample, weights)
    drawn = np.flatnonzero(counts)
    return [int(members[i]) for i in drawn], [float(counts[i] / sample) for i in drawn]


def member_points(frame: pd.DataFrame, members: list[int]) -> list[dict[str, Any]]:
    """The parameter values of the chosen members, as design points."""
    by_member = frame.set_index("member")
    names = parameter_columns(frame)
    points = []
    for m in members:
        row = by_member.loc[m]
        point = {}
        for name in names:
            value = row[name]
            point[name] = int(value) if isinstance(value, int | np.integer) else float(value)
        points.append(point)
    return points


# --- the design type `ensemble` ------------------------------------------------------------
ENSEMBLE_DESIGN_KEYS = ("type", "file", "sample", "seed", "factors")


def parse_ensemble_design(table: dict, base: Path, parameter_value) -> dict[str, Any]:
    """Validate ``[design] type = "ensemble"`` and read its file.

    Keys: ``file`` (an ensemble Parquet file, relative to the spec file), ``sample``
    (how many members to use, see :func:`choose_members`; default all),
    ``seed`` (of that draw; default 0) and ``factors`` (optional: parameter = [values]
    crossed with every member, for instance the scenarios).

    Args:
        table: The ``[design]`` table.
        base: Folder relative paths are resolved against.
        parameter_value: ``(path, name, value) -> value``, the spec's value check.

    Returns:
        ``{"file", "sample", "seed", "factors", "members", "points", "record"}``: the
        crossed design points (member-major) and what the manifest records.

    Raises:
        ValueError: A message starting with the field's dotted path.
    """
    file = table.get("file")
    if not isinstance(file, str) or not file:
        raise ValueError("spec.design.file: must name an ensemble file (.parquet)")
    path = Path(file)
    path = path if path.is_absolute() else (base / path).resolve()
    try:
        frame, meta = read_ensemble(path)
    except EnsembleError as exc:
        raise ValueError(f"spec.design.file: {exc}") from None
    sample = table.get("sample")
    if sample is not None and (
        isinstance(sample, bool) or not isinstance(sample, int) or sample < 1
    ):
        raise ValueError(f"spec.design.sample: must be a positive integer, got {sample!r}")
    seed = table.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"spec.design.seed: must be an integer from 0 to 2**32 - 1, got {seed!r}")
    factors = table.get("factors", {})
    if not isinstance(factors, dict):
        raise ValueError("spec.design.factors: must be a table of parameter = [values, ...]")
    names = parameter_columns(frame)
    checked: dict[str, list[Any]] = {}
    for name, values in factors.items():
        where = f"spec.design.factors.{name}"
        if name in names:
            raise ValueError(f"{where}: is a parameter of the ensemble; it cannot also vary")
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: must be a non-empty list of values, got {values!r}")
        checked[name] = [parameter_value(f"{where}[{i}]", name, v) for i, v in enumerate(values)]
    members, weights = choose_members(frame, sample, seed)
    calibration_fixed = {
        k: v for k, v in meta.get("calibration", {}).get("fixed", {}).items() if k not in checked
    }
    from itertools import product

    combos = [dict(zip(checked, c, strict=True)) for c in product(*checked.values())] or [{}]
    points = [
        {**calibration_fixed, **member, **combo}
        for member in member_points(frame, members)
        for combo in combos
    ]
    record = {
        "file": str(path),
        "sample": sample,
        "seed": seed,
        "factors": checked,
        "members": members,
        "weights": weights,
        "ensemble_sha256": file_hash(path),
        "model_fingerprint": meta.get("model_fingerprint"),
        "ensemble_commit": meta.get("git_commit"),
        "ensemble_command": meta.get("command"),
        "calibrated_parameters": names,
    }
    return {"points": points, "record": record, "combos": len(combos)}
