"""The report of a sweep: ``report.md``, ``report.html``, figures and CSV tables.

``write_report(DIR)`` reads the store and manifest into a :class:`ReportContext`, runs
the section builders of :data:`SECTIONS` in order and writes (in ``DIR``, or ``out``):

* ``report.md`` and ``report.html`` (the same content; the HTML is one self-contained
  file with its figures embedded, so it survives being emailed or moved);
* ``figures/*.png``;
* ``per_run.csv`` (final-year outcomes of every run), ``summary.csv``, ``paired.csv``
  and ``risk.csv`` (the tables at full precision).

A section builder is a function of the context that returns a :class:`Section` (a
title, markdown and figures) or None when it has nothing to say for this experiment
(no numeric design, say). The first section is the council officer's headline
(:mod:`experiments.sections`); other analyses add theirs in one place with
:func:`add_section`, as the exploration sections do (:mod:`experiments.exploration`:
sensitivity, scenario discovery and robustness, with ``sensitivity.csv``,
``discovery.csv`` and ``robustness.csv``) and the section over plausible worlds does
(:mod:`experiments.worlds`, right after the headline for a design of type ``ensemble``,
with ``worlds.csv``).

A design with more than :data:`MANY_POINTS` points (a Latin hypercube, Morris or
Sobol' sample) gets its over-time figures pooled over all points and its per-point
tables in the CSV files only.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from experiments import analysis, plots
from experiments.store import Store, atomic_write_bytes, write_frame

#: Above this many design points the report pools points instead of listing each.
MANY_POINTS = 24

HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; max-width: 80em; margin: 2em auto; padding: 0 1em;
       line-height: 1.4; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }}
th {{ background: #f3f3f3; }}
td:first-child, th:first-child {{ text-align: left; }}
img {{ max-width: 100%; }}
code {{ background: #f6f6f6; }}
blockquote {{ border-left: 4px solid #d55e00; margin: 1em 0; padding: 0.2em 1em;
             background: #fff4ec; }}
</style></head><body>
{body}
</body></html>
"""
#: Fewer replicates than this per strategy and design point get a warning.
MIN_REPLICATES = 5


@dataclass
class Section:
    """One section of a report.

    Attributes:
        title: Its heading.
        body: Markdown.
        figures: PNG files shown after the text (in the report's ``figures/``).
    """

    title: str
    body: str
    figures: list[Path] = field(default_factory=list)


class ReportContext:
    """What the section builders read: the manifest, the store and the derived tables
    (computed once, when first asked for).

    Args:
        folder: The sweep's folder.
        out: Where the report goes (figures in ``out/figures``).
        threshold: Risk threshold (None: the spec's, else the baseline's median).
        baseline: Strategy the others are compared with (None: the spec's).
        discovery_threshold: Scenario discovery's win threshold (None: the spec's).
        regret_tolerance: Robustness tolerance in unmet share (None: the spec's).

    Raises:
        ValueError: If the folder has no manifest or no finished run, the store lacks
            ``unmet_share``, or the baseline is not one of the spec's strategies.
    """

    def __init__(
        self,
        folder: str | Path,
        out: str | Path | None = None,
        threshold: float | None = None,
        baseline: str | None = None,
        discovery_threshold: float | None = None,
        regret_tolerance: float | None = None,
    ):
        self.folder = Path(folder)
        self.out = Path(out) if out is not None else self.folder
        self.store = Store(self.folder)
        manifest = self.store.read_manifest()
        if manifest is None:
            raise ValueError(f"{str(self.folder)!r} has no manifest.json")
        self.manifest = manifest
        self.spec = manifest["spec"]
        self.baseline = baseline or self.spec.get("baseline") or "direct"
        if self.baseline not in self.spec["strategies"]:
            raise ValueError(
                f"baseline must be one of {', '.join(self.spec['strategies'])}, "
                f"got {self.baseline!r}"
            )
        self.threshold = threshold if threshold is not None else self.spec.get("risk_threshold")
        if discovery_threshold is None:
            discovery_threshold = self.spec.get("discovery_threshold")
        self.discovery_threshold = discovery_threshold
        if regret_tolerance is None:
            regret_tolerance = self.spec.get("regret_tolerance")
        self.regret_tolerance = regret_tolerance
        held = self.store.columns(manifest)
        if "unmet_share" not in held:
            raise ValueError("the store does not hold the metric 'unmet_share'")
        # only what the report uses: far less to read than every metric of every run
        self.frame = self.store.read_runs(analysis.report_columns(held), manifest)

    # --- tables --------------------------------------------------------------------------
    @cached_property
    def budget_split(self) -> pd.DataFrame:
        """Where the money went: each spend line's share of the budget, per strategy."""
        return analysis.budget_split(self.frame)

    @cached_property
    def coordinator_hours(self) -> pd.DataFrame:
        """Coordinators' hours a week by task, per strategy that employs them."""
        return analysis.coordinator_split(self.frame)

    @cached_property
    def per_run(self) -> pd.DataFrame:
        """Final-year outcomes of every run."""
        return analysis.final_year(self.frame)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Mean and CI per design point and strategy."""
        return analysis.summary_table(self.per_run)

    @cached_property
    def paired(self) -> pd.DataFrame:
        """Paired differences from the baseline, with verdicts."""
        return analysis.paired_differences(self.per_run, self.baseline)

    @cached_property
    def pairs(self) -> pd.DataFrame:
        """Every pair of runs (strategy and baseline, same point and replicate)."""
        return analysis.paired_frame(self.per_run, self.baseline)

    @cached_property
    def risk(self) -> pd.DataFrame:
        """Risk of a bad outcome per design point and strategy."""
        return analysis.risk_table(self.per_run, self.threshold, self.baseline)

    # --- facts ---------------------------------------------------------------------------
    @cached_property
    def strategies(self) -> list[str]:
        """The spec's strategies, in its order."""
        return list(self.spec["strategies"])

    @cached_property
    def colors(self) -> dict[str, str]:
        """One colour per strategy, used by every figure."""
        return plots.strategy_colors(self.strategies)

    @cached_property
    def points(self) -> pd.DataFrame:
        """One row per design point: ``point`` and its parameter values."""
        return pd.DataFrame([{"point": p["index"], **p["values"]} for p in self.manifest["points"]])

    @cached_property
    def numeric_varied(self) -> list[str]:
        """Numeric parameters that take more than one value across the design points."""
        points = self.manifest.get("points", [])
        names: list[str] = []
        for p in points:
            for k, v in p["values"].items():
                if k not in names and isinstance(v, int | float) and not isinstance(v, bool):
                    names.append(k)
        return [n for n in names if len({p["values"].get(n) for p in points}) > 1]

    @cached_property
    def replicates(self) -> tuple[int, int]:
        """Fewest and most replicates per strategy and design point in the report."""
        if not len(self.summary):
            return 0, 0
        return int(self.summary["n"].min()), int(self.summary["n"].max())

    @property
    def many_points(self) -> bool:
        """Whether the design has more than :data:`MANY_POINTS` points (figures over time
        are then pooled and per-point tables go to the CSV files only)."""
        return len(self.manifest["points"]) > MANY_POINTS

    @cached_property
    def timeline(self) -> pd.DataFrame:
        """The weekly data the figures over time show: as stored, or, for
        :attr:`many_points`, all design points as one, each (point, replicate) a pair of
        its own."""
        if not self.many_points:
            return self.frame
        frame = self.frame
        replicates = int(frame["replicate"].max()) + 1
        return frame.assign(
            replicate=frame["point"] * replicates + frame["replicate"],
            point=0,
            point_label=f"all {len(self.manifest['points'])} design points",
        )

    @property
    def design_type(self) -> str:
        """The spec's design type."""
        return self.spec.get("design", {}).get("type", "single")

    @cached_property
    def fig_dir(self) -> Path:
        """Folder of the figures (created)."""
        path = self.out / "figures"
        path.mkdir(parents=True, exist_ok=True)
        return path


SectionBuilder = Callable[[ReportContext], Section | None]
#: The report's sections, in order: (key, builder). Filled by :mod:`experiments.sections`.
SECTIONS: list[tuple[str, SectionBuilder]] = []


def add_section(
    key: str, builder: SectionBuilder, *, after: str | None = None, before: str | None = None
) -> None:
    """Add (or replace) a section of every report, after or before a named one (at the
    end if neither is given). Keys of the standard sections: ``headline``,
    ``experiment``, ``sensitivity``, ``discovery``, ``robustness`` (these three from
    :mod:`experiments.exploration`), ``over_time``, ``paired_over_time``, ``effects``,
    ``summary``, ``paired``, ``risk``, ``files``."""
    keys = [k for k, _ in SECTIONS]
    if key in keys:
        SECTIONS[keys.index(key)] = (key, builder)
        return
    anchor = after or before
    if anchor is not None and anchor not in keys:
        raise ValueError(f"no report section {anchor!r}; known: {', '.join(keys)}")
    where = len(SECTIONS) if anchor is None else keys.index(anchor) + (1 if after else 0)
    SECTIONS.insert(where, (key, builder))


def render_markdown(title: str, intro: str, sections: list[Section], out: Path) -> str:
    """The report's markdown: a title, an introduction and the sections."""
    lines = [f"# {title}", ""]
    if intro:
        lines += [intro, ""]
    for section in sections:
        lines += [f"## {section.title}", "", section.body.strip(), ""]
        for figure in section.figures:
            relative = Path(figure).resolve().relative_to(out.resolve()).as_posix()
            lines += [f"![{section.title}]({relative})", ""]
    return "\n".join(lines)


_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+\.png)\)")


def self_contained_html(md: str, title: str, out: Path) -> str:
    """HTML of the markdown with every PNG embedded as a data URI (one portable file)."""
    import markdown

    def embed(match: re.Match) -> str:
        data = base64.b64encode((out / match.group(2)).read_bytes()).decode("ascii")
        return f"![{match.group(1)}](data:image/png;base64,{data})"

    body = markdown.markdown(_IMAGE.sub(embed, md), extensions=["tables"])
    return HTML_TEMPLATE.format(title=title, body=body)


def write_document(out: Path, md: str, title: str, tmp_dir: Path | None = None) -> dict:
    """Write ``report.md`` and the self-contained ``report.html`` in ``out``."""
    html = self_contained_html(md, title, out)
    atomic_write_bytes(out / "report.md", md.encode("utf-8"), tmp_dir)
    atomic_write_bytes(out / "report.html", html.encode("utf-8"), tmp_dir)
    return {"md": out / "report.md", "html": out / "report.html"}


def write_report(
    folder: str | Path,
    threshold: float | None = None,
    baseline: str | None = None,
    out: str | Path | None = None,
    discovery_threshold: float | None = None,
    regret_tolerance: float | None = None,
) -> dict[str, Path]:
    """Write the report of the sweep stored in ``folder``.

    Args:
        folder: The sweep's output folder.
        threshold: Risk threshold of the final-year unmet share (default: the spec's
            ``report.risk_threshold``, else the baseline's median at each design point).
        baseline: Strategy the others are compared with (default: the spec's).
        out: Folder to write the report in (default: ``folder``).
        discovery_threshold: Scenario discovery's win threshold (default: the spec's
            ``report.discovery_threshold``, else "the 95% CI below zero").
        regret_tolerance: Robustness tolerance in unmet share (default: the spec's
            ``report.regret_tolerance``).

    Returns:
        Paths of the files written (``md``, ``html``, ``figures``...).

    Raises:
        ValueError: If the folder holds no finished runs or the baseline is unknown.
        OSError: If ``out`` cannot be written.
    """
    import experiments.exploration  # noqa: F401 - fills SECTIONS (with experiments.sections)
    import experiments.worlds  # noqa: F401 - adds the section over plausible worlds

    ctx = ReportContext(folder, out, threshold, baseline, discovery_threshold, regret_tolerance)
    ctx.out.mkdir(parents=True, exist_ok=True)
    sections = [s for _key, build in SECTIONS if (s := build(ctx)) is not None]
    for name in ("per_run", "summary", "paired", "risk", "budget_split", "coordinator_hours"):
        write_frame(getattr(ctx, name), ctx.out / f"{name}.csv")
    title = f"civic-sim report: {ctx.spec['name']}"
    md = render_markdown(title, ctx.spec.get("description", ""), sections, ctx.out)
    paths = write_document(ctx.out, md, title)
    paths["figures"] = [f for s in sections for f in s.figures]
    return paths


def ci_text(fmt: str, mean: float, low: float, high: float) -> str:
    """``0.612 [0.598, 0.626]`` (the mean alone without an interval)."""
    if math.isnan(mean):
        return "n/a"
    if math.isnan(low):
        return fmt.format(mean)
    return f"{fmt.format(mean)} [{fmt.format(low)}, {fmt.format(high)}]"


def signed(fmt: str, value: float) -> str:
    """A number with its sign (``+0.012``)."""
    text = fmt.format(value)
    return text if text.startswith("-") else "+" + text


def md_table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
    return "\n".join(lines)
