"""The ODD's parameter tables are a copy of the defaults: they must equal ``Parameters``.

Every table of ``docs/ODD.md`` headed ``| parameter | default | unit | source |`` is read;
a row names one or more parameters (`` `a`, `b` ``) and their defaults (``3, 3``; a tuple
as ``(0, 8, 16)``; ``none`` for no value; a note in brackets after a value is ignored).
Each named parameter must exist with that default, and every parameter must appear.
"""

from __future__ import annotations

import re
from pathlib import Path

from model.parameters import PARAMETER_FIELDS

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"
HEADER = "| parameter | default | unit | source |"


def odd_rows() -> list[tuple[str, str, int]]:
    """(parameter name, default as written, line number) for every table row."""
    lines = ODD.read_text(encoding="utf-8").splitlines()
    rows = []
    for start, line in enumerate(lines):
        if line.strip() != HEADER:
            continue
        for number in range(start + 2, len(lines)):
            row = lines[number]
            if not row.startswith("|"):
                break
            cells = [c.strip() for c in row.strip().strip("|").split("|")]
            names = re.findall(r"`(\w+)`", cells[0])
            assert names and re.fullmatch(r"`\w+`(, `\w+`)*", cells[0]), (
                f"ODD line {number + 1}: the first cell must name parameters, got {cells[0]!r}"
            )
            values = _split_values(cells[1], len(names))
            assert len(values) == len(names), (
                f"ODD line {number + 1}: {len(names)} parameters but defaults {cells[1]!r}"
            )
            rows += [(n, v, number + 1) for n, v in zip(names, values, strict=True)]
    return rows


def _split_values(text: str, n: int) -> list[str]:
    """The defaults of a row: the text itself for one name, else split at commas outside
    brackets; a trailing note in brackets (``0.0 (austerity 0.02)``) is dropped."""
    text = re.sub(r"\s+\([^()]*[a-z][^()]*\)$", "", text.strip())  # a note, not a tuple
    if n == 1:
        return [text]
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [*parts, current.strip()]


def _parse(text: str):
    text = text.strip().strip("`")
    if text.lower().startswith("none"):
        return None
    if text.startswith("("):
        return tuple(float(v) for v in text.strip("()").split(","))
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return text


def _mismatch(name: str, written: str, line: int) -> str | None:
    """Why an ODD row disagrees with ``Parameters`` (None if it agrees)."""
    if name not in PARAMETER_FIELDS:
        return f"line {line}: no parameter '{name}'"
    default = PARAMETER_FIELDS[name].default
    value = _parse(written)
    if isinstance(default, tuple):
        same = value == tuple(float(v) for v in default)
    elif default is None or isinstance(default, str):
        same = value == default
    else:
        same = isinstance(value, float) and value == float(default)
    return None if same else f"line {line}: {name} = {written}, Parameters says {default!r}"


def test_every_odd_row_names_a_parameter_with_its_default():
    rows = odd_rows()
    assert len(rows) >= len(PARAMETER_FIELDS)
    wrong = [m for m in (_mismatch(*row) for row in rows) if m]
    assert not wrong, "docs/ODD.md disagrees with Parameters:\n" + "\n".join(wrong)


def test_every_parameter_is_in_an_odd_table():
    shown = {name for name, _, _ in odd_rows()}
    missing = [name for name in PARAMETER_FIELDS if name not in shown]
    assert not missing, f"parameters missing from the ODD's parameter tables: {missing}"


def test_a_wrong_default_would_be_caught():
    assert _mismatch("max_age", "104", 1) == "line 1: max_age = 104, Parameters says 105.0"
    assert _mismatch("need_hours_by_level", "(0, 8, 16, 32, 80)", 1) is None
    assert _mismatch("need_hours_by_level", "(0, 8, 16, 32)", 1) is not None
    assert _mismatch("budget_cut_rate", "0.0 (austerity 0.02)".split(" (")[0], 1) is None
    assert _mismatch("strategy", "`hybrid`", 1) is not None
    assert _mismatch("seed", "none (fresh entropy)", 1) is None
    assert _mismatch("no_such_thing", "1", 1) == "line 1: no parameter 'no_such_thing'"
    assert _split_values("0.0 (austerity 0.02)", 1) == ["0.0"]
    assert _split_values("(0.49, 0.21, 0.30)", 1) == ["(0.49, 0.21, 0.30)"]
    assert _split_values("0.45, 0.20, 0.15, 0.20", 4) == ["0.45", "0.20", "0.15", "0.20"]
