"""The ``civic-sim`` command line: run, list, sweep and report.

::

    civic-sim run --strategy facilitator --scenario austerity --steps 520 --out run.parquet
    civic-sim run --from results/cmp p001-facilitator-r003      # one stored run, exactly
    civic-sim list [strategies|scenarios|parameters|metrics]
    civic-sim sweep experiments/specs/strategy_comparison.toml --out results/cmp
    civic-sim report results/cmp [--out DIR]
    civic-sim report --compare results/before results/after
    civic-sim calibrate --check

``--plugin MODULE_OR_PATH`` (repeatable, before or after the command) loads extension
modules first, so their strategies, scenarios and metrics can be used everywhere.

Any mistake in the input (an unknown name, a value out of range, a broken spec) is
reported as one line on stderr naming the field and what is allowed, with exit code 2.
A sweep in which some runs failed exits with 1 after finishing the others; an
interrupted command (Ctrl-C) exits with 130.

Seeds: ``civic-sim run --seed S`` runs with ``numpy.random.SeedSequence(S)``, the same as
``CivicModel(seed=S)`` in Python. Replicate ``r`` of a sweep whose spec says ``seed = S``
runs with ``SeedSequence(S, spawn_key=(r,))``: ``civic-sim run --seed S --replicate r``
(with the run's parameters), or simply ``civic-sim run --from DIR RUN_ID``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED_RUNS = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
OUTPUT_SUFFIXES = (".parquet", ".csv")


class UsageError(Exception):
    """A mistake in what the user asked for (printed as one line, exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line (no usage block) and exit code 2."""

    def error(self, message: str):  # noqa: D102 - argparse hook
        raise UsageError(message)


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _wrapped(text: str, indent: int = 17, width: int = 100) -> list[str]:
    """Wrap a description under a name column."""
    import textwrap

    return textwrap.wrap(
        _one_line(text), width=width, initial_indent=" " * indent, subsequent_indent=" " * indent
    )


def _plugin_arg(value: str) -> str:
    """Resolve a plugin given as a path to an absolute path (workers may run elsewhere)."""
    if value.endswith(".py") or os.sep in value:
        return str(Path(value).resolve())
    return value


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``civic-sim``."""

    def plugin_option(dest: str) -> argparse.ArgumentParser:
        holder = _Parser(add_help=False)
        holder.add_argument(
            "--plugin",
            dest=dest,
            action="append",
            type=_plugin_arg,
            default=argparse.SUPPRESS,
            metavar="MODULE_OR_PATH",
            help="import an extension module (dotted name or .py path) first; repeatable",
        )
        return holder

    # before the command and after it: separate lists (a subcommand's defaults would
    # otherwise replace what was given before it)
    parser = _Parser(
        prog="civic-sim",
        description="Civic energy and the demand for care: run the model and experiments.",
        parents=[plugin_option("plugins")],
    )
    common = plugin_option("plugins_after")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", parents=[common], help="run one simulation")
    run.add_argument("--strategy", default=None, help="council strategy (default direct)")
    run.add_argument("--scenario", default=None, help="scenario preset (default baseline)")
    run.add_argument("--steps", type=int, default=None, help="weeks to run (default 520)")
    run.add_argument(
        "--seed",
        type=int,
        default=None,
        help="random seed: SeedSequence(SEED), as CivicModel(seed=SEED) (default: fresh, printed)",
    )
    run.add_argument(
        "--replicate",
        type=int,
        default=None,
        metavar="R",
        help="with --seed S: replicate R of a sweep whose spec has seed = S "
        "(SeedSequence(S, spawn_key=(R,)))",
    )
    run.add_argument(
        "--from",
        dest="from_run",
        nargs=2,
        default=None,
        metavar=("DIR", "RUN_ID"),
        help="repeat one stored run of a sweep exactly (its parameters, seed, weeks and "
        "plugins) and say whether it matches the stored result",
    )
    run.add_argument("--residents", default=None, help="initial older residents")
    run.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set any parameter; repeatable",
    )
    run.add_argument("--out", default=None, help="write weekly metrics (.parquet or .csv)")
    run.add_argument("--check", action="store_true", help="verify invariants every week")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    lst = sub.add_parser("list", parents=[common], help="list strategies, scenarios, ...")
    lst.add_argument(
        "what",
        nargs="?",
        default="all",
        choices=("all", "strategies", "scenarios", "parameters", "metrics"),
    )

    sweep = sub.add_parser("sweep", parents=[common], help="run an experiment spec")
    sweep.add_argument("spec", help="spec file (TOML)")
    sweep.add_argument("--out", default=None, help="output folder (default: the spec's 'out')")
    sweep.add_argument(
        "--executor",
        default="processes",
        help="processes (default, one worker per core) or serial",
    )
    sweep.add_argument("--workers", type=int, default=None, help="worker count")
    sweep.add_argument(
        "--dask",
        default=None,
        metavar="local|tcp://HOST:PORT",
        help="run on Dask: a LocalCluster on 127.0.0.1, or an existing scheduler",
    )
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter in every run, as the spec's [fixed] would (recorded in the "
        "manifest); repeatable",
    )
    sweep.add_argument(
        "--rerun-changed",
        action="store_true",
        help="run again the finished runs made by another version of the model (their "
        "files are kept in DIR/superseded/)",
    )
    sweep.add_argument(
        "--clear-stale-lock",
        action="store_true",
        help="remove the lock left by a sweep that is no longer running (killed, or the "
        "machine restarted)",
    )

    calibrate = sub.add_parser(
        "calibrate",
        parents=[common],
        help="history-match the model (SPEC), list the calibration targets, or check them",
    )
    calibrate.add_argument(
        "spec",
        nargs="?",
        default=None,
        help="a calibration spec (TOML): history matching to an ensemble of plausible "
        "parameter sets and its diagnostics",
    )
    calibrate.add_argument(
        "--dask", default=None, help="with SPEC: 'local' or a scheduler address (tcp://...)"
    )
    calibrate.add_argument(
        "--check",
        action="store_true",
        help="run the baseline (and the targets' other scenarios) at ward scale on several "
        "seeds and compare each target with its band",
    )
    calibrate.add_argument(
        "--targets", default=None, help="targets file (default experiments/targets.toml)"
    )
    calibrate.add_argument("--replicates", type=int, default=None, help="seeds per scenario")
    calibrate.add_argument("--residents", type=int, default=None, help="older residents")
    calibrate.add_argument("--steps", type=int, default=None, help="weeks after the burn-in")
    calibrate.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="try another value of a parameter; repeatable",
    )
    calibrate.add_argument("--executor", default="processes", help="processes (default) or serial")
    calibrate.add_argument("--workers", type=int, default=None, help="worker count")
    calibrate.add_argument(
        "--out", default=None, help="also write the table (.csv); with SPEC: the output folder"
    )
    calibrate.add_argument("--no-progress", action="store_true", help="no progress bar")

    report = sub.add_parser("report", parents=[common], help="write the report of a sweep")
    report.add_argument("folder", nargs="?", default=None, help="the sweep's output folder")
    report.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="write the report here instead of in the sweep's folder",
    )
    report.add_argument(
        "--compare",
        nargs=2,
        default=None,
        metavar=("DIR_A", "DIR_B"),
        help="compare two sweeps run on the same seeds (B minus A: a changed rule against "
        "the default, say); writes to --out (default DIR_B/comparison)",
    )
    report.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="final-year unmet share counted as a bad outcome (default: the spec's "
        "report.risk_threshold, else the baseline strategy's median at each design point)",
    )
    report.add_argument("--baseline", default=None, help="strategy compared against")
    report.add_argument(
        "--discovery-threshold",
        type=float,
        default=None,
        help="scenario discovery counts a win where the mean paired difference in unmet "
        "share is below this (default: the spec's, else where its 95%% CI is below zero)",
    )
    report.add_argument(
        "--regret-tolerance",
        type=float,
        default=None,
        help="regret in unmet share within which a strategy counts as good as the best "
        "(default: the spec's, else 0.005)",
    )
    return parser


# --- commands ------------------------------------------------------------------------------
def _parse_sets(sets: list[str]) -> dict[str, object]:
    from model.parameters import coerce

    values: dict[str, object] = {}
    for item in sets:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--set: expected NAME=VALUE, got {item!r}")
        try:
            values[name] = coerce(name, text)
        except ValueError as exc:
            raise UsageError(f"--set {name}: {exc}") from None
    return values


def cmd_run(args) -> int:
    """``civic-sim run``: one simulation, a progress bar, a first/last year table."""
    if args.from_run is not None:
        return cmd_run_from(args)
    from model.parameters import Parameters, coerce

    overrides = _parse_sets(args.sets)
    if args.residents is not None:
        try:
            overrides["residents"] = coerce("residents", args.residents)
        except ValueError as exc:
            raise UsageError(f"--residents: {exc}") from None
    steps = 520 if args.steps is None else args.steps
    if steps < 1:
        raise UsageError(f"--steps must be a positive integer, got {steps}")
    if args.seed is not None and args.seed < 0:
        raise UsageError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.replicate is not None:
        if args.seed is None:
            raise UsageError("--replicate needs --seed (the sweep's seed)")
        if args.replicate < 0:
            raise UsageError(f"--replicate must be a non-negative integer, got {args.replicate}")
    out = _output_file(args.out)
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    try:
        chosen = {
            "scenario": args.scenario or "baseline",
            "strategy": args.strategy or "direct",
            "seed": seed,
        }
        params = Parameters.resolve(**{**chosen, **overrides})  # --set wins
    except ValueError as exc:
        raise UsageError(str(exc)) from None

    from model.civic_model import CivicModel

    seed_sequence = None
    seeding = f"seed {params.seed}"
    if args.replicate is not None:
        import numpy as np

        seed_sequence = np.random.SeedSequence(seed, spawn_key=(args.replicate,))
        seeding += (
            f", replicate {args.replicate} (SeedSequence({seed}, spawn_key=({args.replicate},)),"
            f" as replicate {args.replicate} of a sweep with seed = {seed})"
        )
    model = CivicModel(params, seed_sequence=seed_sequence, check=args.check)
    frame = _run_with_bar(model, steps, f"{params.strategy}/{params.scenario}", args.no_progress)
    if out is not None:
        _write_output(frame, out)
    print(
        f"{params.strategy} / {params.scenario}, {params.residents} residents, "
        f"{steps} weeks, {seeding}"
    )
    print(first_last_table(frame))
    if out is not None:
        print(f"weekly metrics written to {out}")
    return EXIT_OK


def _output_file(value: str | None) -> Path | None:
    """Check ``--out`` of ``civic-sim run`` (suffix, writable folder) before any work."""
    if value is None:
        return None
    out = Path(value)
    if out.suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--out must end in {' or '.join(OUTPUT_SUFFIXES)}, got {str(out)!r}")
    from experiments.store import ensure_writable_folder

    try:
        ensure_writable_folder(out.parent)
    except ValueError as exc:
        raise UsageError(f"--out: {exc}") from None
    return out


def _write_output(frame, out: Path) -> None:
    from experiments.store import write_frame

    try:
        write_frame(frame, out)
    except OSError as exc:
        raise UsageError(f"--out: cannot write {str(out)!r}: {exc.strerror or exc}") from None


def _run_with_bar(model, steps: int, label: str, quiet: bool):
    from tqdm import tqdm

    with tqdm(total=steps, desc=label, unit="week", file=sys.stderr, disable=quiet) as bar:
        return model.run(steps, progress=lambda _week: bar.update(1))


def cmd_run_from(args) -> int:
    """``civic-sim run --from DIR RUN_ID``: repeat one stored run and compare it."""
    import io

    import pandas as pd

    from experiments import runner
    from experiments.reproduce import compare_runs
    from experiments.store import (
        Store,
        cpu_code_paths,
        explain_fingerprint_change,
        fingerprint_parts,
    )

    given = [
        flag
        for flag, value in (
            ("--strategy", args.strategy),
            ("--scenario", args.scenario),
            ("--steps", args.steps),
            ("--seed", args.seed),
            ("--replicate", args.replicate),
            ("--residents", args.residents),
            ("--set", args.sets or None),
        )
        if value is not None
    ]
    if given:
        raise UsageError(
            f"--from: the run's parameters, seed and weeks come from the folder; {given[0]} "
            "cannot be combined with it"
        )
    folder, run_id = args.from_run
    out = _output_file(args.out)
    try:
        task, entry = runner.task_from_folder(folder, run_id)
        plugin_keys = runner.ensure_plugins(task.plugins)
    except (runner.SweepError, ValueError) as exc:
        message = str(exc)
        raise UsageError(
            message if message.startswith("--from") else f"--from: {message}"
        ) from None
    manifest = Store(folder).read_manifest()
    parts = fingerprint_parts(plugin_keys)
    now_fp = runner.model_fingerprint(parts)
    made_by = entry.get("model_fingerprint")
    if made_by and made_by != now_fp:
        why = explain_fingerprint_change(manifest.get("fingerprints", {}).get(made_by), parts)
        print(
            f"civic-sim: note: this run was made by model {made_by}, the model is now "
            f"{now_fp} ({why}); the numbers may differ",
            file=sys.stderr,
        )
    task.check = args.check
    model = runner.build_model(task)
    metrics = _run_with_bar(model, task.steps, run_id, args.no_progress)
    frame = runner.run_frame(task, model, metrics)
    if out is not None:
        _write_output(frame, out)
    print(
        f"{run_id} from {folder}: {task.strategy} / {model.p.scenario}, {model.p.residents} "
        f"residents, {task.steps} weeks, replicate {task.replicate} of root entropy "
        f"{task.root_entropy} (SeedSequence(root, spawn_key=({task.replicate},)))"
    )
    print(first_last_table(metrics))
    if out is not None:
        print(f"weekly table written to {out} (the same columns as the stored run)")
    stored_path = Store(folder).run_path(run_id)
    if not stored_path.is_file():
        print(f"the folder holds no result for {run_id} (status {entry.get('status')})")
        return EXIT_OK
    stored = pd.read_parquet(stored_path)
    again = pd.read_parquet(io.BytesIO(frame.to_parquet(index=False)))  # as stored
    found = compare_runs(stored, again)
    size = f"{len(stored)} weeks x {len(stored.columns)} columns"
    if found.identical:
        print(f"identical to the stored run, bit for bit: {size}")
        return EXIT_OK
    if not found.differ:
        made_on, now_on = manifest.get("versions", {}).get("cpu"), cpu_code_paths()
        where = (
            f"stored on {made_on}, now {now_on}"
            if made_on and made_on != now_on
            else f"this machine: {now_on}"
        )
        print(
            f"the same events as the stored run ({size}): every count identical; "
            f"{len(found.last_bits)} float columns differ only in their last bits (at most "
            f"{found.largest:.1e} relative: {_listed(found.last_bits)}), as a run on "
            f"another CPU or numpy/glibc build does ({where}; docs/experiments.md)"
        )
        return EXIT_OK
    print(
        f"DIFFERS from the stored run in {len(found.differ)} columns: {_listed(found.differ)}",
        file=sys.stderr,
    )
    return EXIT_FAILED_RUNS


def _listed(columns: list[str], most: int = 6) -> str:
    """The first ``most`` column names, and ``...`` if there are more."""
    return ", ".join(columns[:most]) + (" ..." if len(columns) > most else "")


SUMMARY_ROWS = (
    ("unmet_share", "Unmet share of needed hours", "{:.3f}"),
    ("residents_with_unmet_need", "Residents with unmet need", "{:,.0f}"),
    ("residents_in_care_homes", "Residents in care homes", "{:,.0f}"),
    ("residents_with_package", "Residents with a home-care package", "{:,.0f}"),
    ("active_volunteers", "Active volunteers", "{:,.0f}"),
    ("spend_total", "Council spend per week (GBP)", "{:,.0f}"),
    ("cost_per_met_hour", "Cost per met hour (GBP)", "{:.2f}"),
)


def first_last_table(frame) -> str:
    """Means over the first and last 52 weeks of a run, as an aligned text table."""
    weeks = min(52, len(frame))
    first, last = frame.head(weeks), frame.tail(weeks)
    label_width = max(len(label) for _, label, _ in SUMMARY_ROWS)
    lines = [f"{'':<{label_width}}  {'first year':>12}  {'last year':>12}"]
    for column, label, fmt in SUMMARY_ROWS:
        if column not in frame:
            continue
        a = fmt.format(float(first[column].mean()))
        b = fmt.format(float(last[column].mean()))
        lines.append(f"{label:<{label_width}}  {a:>12}  {b:>12}")
    return "\n".join(lines)


def cmd_list(args) -> int:
    """``civic-sim list``: strategies, scenarios, parameters and metrics."""
    from model.metrics import metric_docs
    from model.parameters import parameter_table
    from model.scenarios import get_scenario, scenario_names
    from model.strategies import strategy_classes

    show = args.what
    blocks = []
    if show in ("all", "strategies"):
        lines = ["Strategies (--strategy):"]
        for name, cls in strategy_classes().items():
            lines.append(f"  {name:<14} {cls.title or name}")
            if cls.description:
                lines += _wrapped(cls.description)
        blocks.append("\n".join(lines))
    if show in ("all", "scenarios"):
        lines = ["Scenarios (--scenario):"]
        for name in scenario_names():
            sc = get_scenario(name)
            sets = ", ".join(f"{k}={v}" for k, v in sc.values.items()) or "(the defaults)"
            lines.append(f"  {name:<14} {sc.title}: sets {sets}")
            lines += _wrapped(sc.description)
        blocks.append("\n".join(lines))
    if show in ("all", "parameters"):
        lines = [
            "Parameters (--set NAME=VALUE): name, default, allowed, unit; then what it is, "
            "the source of its default, and its kind (data: from a cited figure, invented, "
            "lever: a council choice, setting), plausible range and why"
        ]
        group = None
        for row in parameter_table():
            if row["group"] != group:
                group = row["group"]
                lines.append(f"  [{group}]")
            default = row["default"]
            if isinstance(default, tuple):
                default = ",".join(f"{v:g}" for v in default)
            unit = f" ({row['unit']})" if row["unit"] else ""
            lines.append(f"  {row['name']:<28} {default!s:<22} {row['allowed']}{unit}")
            lines.append(f"  {'':<28} {row['doc']}")
            lines += _wrapped(f"source: {row['source']}", indent=31)
            lines.append(f"  {'':<28} {_kind_and_range(row)}")
        blocks.append("\n".join(lines))
    if show in ("all", "metrics"):
        lines = ["Metrics (weekly columns):"]
        for name, doc in metric_docs().items():
            lines.append(f"  {name:<28} {doc}")
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))
    return EXIT_OK


def _kind_and_range(row: dict) -> str:
    """``kind: invented; plausible 0.1 to 0.9 (why); from plugin x`` for the parameter
    table (the model's own parameters and the plugins' alike)."""
    low_high = row["range"]
    span = f"; plausible {low_high[0]:g} to {low_high[1]:g}" if low_high else ""
    reason = f" ({row['range_reason']})" if row.get("range_reason") else ""
    origin = f"; from plugin {row['plugin']}" if row.get("plugin") else ""
    return f"kind: {row['kind']}{span}{reason}{origin}"


def cmd_sweep(args) -> int:
    """``civic-sim sweep SPEC``: run (or resume) every run of an experiment."""
    from experiments import runner
    from experiments.spec import SpecError, check_values, checked_fixed_value, load_spec

    try:
        spec = load_spec(args.spec)
        try:
            # the same list the runs load (once per process: serial runs reuse this)
            runner.ensure_plugins(args.plugins + spec.plugins)
        except ValueError as exc:
            raise SpecError(f"spec.plugins: {exc}") from None
        for name, value in _parse_sets(args.sets).items():
            spec.fixed[name] = checked_fixed_value(spec, name, value)
        check_values(spec)
    except (SpecError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be a positive integer, got {args.workers}")
    if not args.dask and args.executor not in runner.EXECUTORS:
        raise UsageError(
            f"--executor must be one of {', '.join(runner.EXECUTORS)}, got {args.executor!r}"
        )
    if args.dask and args.dask != "local" and "://" not in args.dask:
        raise UsageError(f"--dask must be 'local' or tcp://HOST:PORT, got {args.dask!r}")
    out = args.out or spec.out
    try:
        summary = runner.run_sweep(
            spec,
            out,
            executor=args.executor,
            workers=args.workers,
            dask=args.dask,
            plugins=args.plugins,
            progress=not args.no_progress,
            rerun_changed=args.rerun_changed,
            clear_stale_lock=args.clear_stale_lock,
        )
    except (SpecError, runner.SweepError) as exc:
        raise UsageError(str(exc)) from None
    if summary.interrupted:
        print(
            f"sweep {spec.name} interrupted: {summary.stored} of {summary.total} runs stored "
            f"({summary.done} finished now); results in {out}; rerun the same command to "
            "resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    print(
        f"sweep {spec.name}: {summary.total} runs; {summary.done} done now, "
        f"{summary.skipped} already done, {len(summary.failed)} failed "
        f"({summary.wall_time:.1f} s); results in {out}"
    )
    if summary.failed:
        shown = ", ".join(summary.failed[:5]) + (" ..." if len(summary.failed) > 5 else "")
        print(
            f"failed runs: {shown}; tracebacks in {Path(out) / 'manifest.json'}; "
            "rerun the same command to retry them",
            file=sys.stderr,
        )
        return EXIT_FAILED_RUNS
    return EXIT_OK


def cmd_report(args) -> int:
    """``civic-sim report DIR``: report.md, report.html and figures from a sweep; or
    ``civic-sim report --compare DIR_A DIR_B``: the paired comparison of two sweeps."""
    from experiments.store import ensure_writable_folder

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise UsageError(f"--threshold must be a number from 0 to 1, got {args.threshold}")
    if args.discovery_threshold is not None and not -1.0 <= args.discovery_threshold <= 1.0:
        raise UsageError(
            f"--discovery-threshold must be a number from -1 to 1, got {args.discovery_threshold}"
        )
    if args.regret_tolerance is not None and not 0.0 <= args.regret_tolerance <= 1.0:
        raise UsageError(
            f"--regret-tolerance must be a number from 0 to 1, got {args.regret_tolerance}"
        )
    if args.compare is not None:
        if args.folder is not None:
            raise UsageError("report: give either a folder or --compare DIR_A DIR_B, not both")
        folders = [Path(f) for f in args.compare]
    elif args.folder is None:
        raise UsageError("report: a sweep folder is required (or --compare DIR_A DIR_B)")
    else:
        folders = [Path(args.folder)]
    for folder in folders:
        if not (folder / "manifest.json").is_file():
            raise UsageError(f"report: {str(folder)!r} is not a sweep folder (no manifest.json)")
    default_out = folders[-1] / "comparison" if args.compare is not None else folders[0]
    out = Path(args.out) if args.out else default_out
    try:
        ensure_writable_folder(out)
    except ValueError as exc:
        hint = "" if args.out else "; use --out DIR to write the report elsewhere"
        raise UsageError(f"report: {exc}{hint}") from None
    try:
        if args.compare is not None:
            from experiments.compare import write_comparison

            paths = write_comparison(folders[0], folders[1], out, threshold=args.threshold)
        else:
            from experiments.report import write_report

            paths = write_report(
                folders[0],
                threshold=args.threshold,
                baseline=args.baseline,
                out=out,
                discovery_threshold=args.discovery_threshold,
                regret_tolerance=args.regret_tolerance,
            )
    except ValueError as exc:
        raise UsageError(f"report: {exc}") from None
    except OSError as exc:
        raise UsageError(
            f"report: cannot write in {str(out)!r}: {exc.strerror or exc}; use --out DIR"
        ) from None
    print(f"report written: {paths['md']} and {paths['html']}")
    return EXIT_OK


def cmd_calibrate(args) -> int:
    """``civic-sim calibrate [--check]``: the targets, or the model against them."""
    from experiments import calibration, runner

    if args.spec is not None:
        return cmd_history_match(args)
    try:
        targets = calibration.load_targets(args.targets or calibration.TARGETS_FILE)
    except calibration.TargetError as exc:
        raise UsageError(str(exc)) from None
    for name in ("replicates", "residents", "steps"):
        value = getattr(args, name)
        if value is not None:
            if value < 1:
                raise UsageError(f"--{name} must be a positive integer, got {value}")
            setattr(targets, name, value)
    if args.executor not in runner.EXECUTORS:
        raise UsageError(
            f"--executor must be one of {', '.join(runner.EXECUTORS)}, got {args.executor!r}"
        )
    if args.out is not None and not args.out.endswith(".csv"):
        raise UsageError(f"--out must end in .csv, got {args.out!r}")
    overrides = _parse_sets(args.sets)
    try:  # every scenario with the overrides must be a valid set of parameters
        from model.parameters import Parameters

        for scenario in targets.scenarios:
            Parameters.resolve(scenario=scenario, residents=targets.residents, **overrides)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not args.check:
        print(f"{len(targets.targets)} calibration targets in {targets.source}:")
        for t in targets.targets:
            scenario = "" if t.scenario == "baseline" else f" [{t.scenario}]"
            print(f"  {t.name}{scenario}: {t.value:g} (band {t.low:g} to {t.high:g})")
            print(f"  {'':2}{t.source}")
        print("run with --check to compare the model with them")
        return EXIT_OK
    print(
        f"calibration check: {', '.join(targets.scenarios)}; {targets.residents:,} residents, "
        f"{targets.replicates} replicates, {targets.steps} weeks after a burn-in, "
        f"strategy {targets.strategy}",
        file=sys.stderr,
    )
    table = calibration.run_check(
        targets,
        executor=args.executor,
        workers=args.workers,
        overrides=overrides,
        progress=not args.no_progress,
    )
    print(calibration.format_table(table))
    missed = int((~table["in_band"]).sum())
    print(
        f"{len(table) - missed} of {len(table)} targets in band"
        + (f"; {missed} out of band" if missed else "")
    )
    if args.out is not None:
        out = table.copy()
        out["replicates"] = out["replicates"].map(lambda v: " ".join(f"{x:.6g}" for x in v))
        out.to_csv(args.out, index=False)
        print(f"table written to {args.out}")
    return EXIT_OK if missed == 0 else EXIT_FAILED_RUNS


def cmd_history_match(args) -> int:
    """``civic-sim calibrate SPEC``: history matching to an ensemble and its diagnostics."""
    from experiments import calibrate, runner
    from experiments.calibration_report import headline
    from experiments.ensemble import EnsembleError
    from experiments.extras import MissingExtra, require_analysis

    if args.check or args.sets or args.targets:
        raise UsageError("calibrate SPEC: --check, --set and --targets are for the check only")
    try:  # history matching's emulators
        require_analysis("calibrate SPEC (history matching)", {"sklearn": "scikit-learn"})
    except MissingExtra as exc:
        raise UsageError(str(exc)) from None
    if args.executor not in runner.EXECUTORS:
        raise UsageError(
            f"--executor must be one of {', '.join(runner.EXECUTORS)}, got {args.executor!r}"
        )
    try:
        spec = calibrate.load_calibration_spec(args.spec)
    except calibrate.CalibrationError as exc:
        raise UsageError(str(exc)) from None
    if spec.abc is not None:
        try:
            require_analysis("calibrate SPEC with [abc] (ABC-SMC)", {"pyabc": "pyabc"})
        except MissingExtra as exc:
            raise UsageError(str(exc)) from None
    if args.out:
        spec.out = args.out
    for name in ("replicates", "residents", "steps"):
        value = getattr(args, name)
        if value is not None:
            if value < 1:
                raise UsageError(f"--{name} must be a positive integer, got {value}")
            setattr(spec, name, value)
    print(
        f"calibrate {spec.name}: {len(spec.ranges)} parameters, {len(spec.targets)} targets "
        f"({len(spec.holdout)} held out), waves of {spec.points_per_wave} points x "
        f"{spec.replicates} replicates x {len(spec.scenarios)} scenarios"
        + (
            f", then ABC-SMC: up to {spec.abc.populations} populations of "
            f"{spec.abc.population_size}"
            if spec.abc is not None
            else ""
        )
        + f"; output in {spec.out}",
        file=sys.stderr,
    )
    opts = calibrate.RunOptions(
        executor=args.executor,
        workers=args.workers,
        dask=args.dask,
        progress=not args.no_progress,
    )
    try:
        result = calibrate.run_calibration(spec, opts)
    except (calibrate.CalibrationError, runner.SweepError, EnsembleError) as exc:
        raise UsageError(str(exc)) from None
    for line in headline(result):
        print(line)
    print(
        f"ensemble: {result.out / 'ensemble.parquet'}"
        + (f" (and {spec.ensemble})" if spec.ensemble else "")
    )
    print(f"diagnostics: {result.out / 'calibration.html'}")
    return EXIT_OK


COMMANDS = {
    "run": cmd_run,
    "list": cmd_list,
    "sweep": cmd_sweep,
    "report": cmd_report,
    "calibrate": cmd_calibrate,
}


def quick_exit(code: int) -> None:
    """End the process soon after an interrupted sweep (everything is written and the
    workers are gone): the exit handlers run (multiprocessing's clean-up of the pool's
    queues and semaphores), but not the second or so of Python's teardown of numba, Mesa
    and pandas, so a Ctrl-C feels immediate."""
    import atexit

    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``civic-sim`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            raise UsageError("a command is required: run, list, sweep, report or calibrate")
        args.plugins = getattr(args, "plugins", []) + getattr(args, "plugins_after", [])
        from model.plugins import load_plugins

        try:
            load_plugins(args.plugins)
        except ValueError as exc:
            raise UsageError(f"--plugin: {exc}") from None
        return COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"civic-sim: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # output piped into e.g. `head`, which stopped reading: not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt as exc:
        from experiments.executors import QuitNow

        if not isinstance(exc, QuitNow):  # a sweep's second Ctrl-C has said so already
            print("civic-sim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def console() -> None:
    """The ``civic-sim`` console script: :func:`main`, then exit with its code."""
    code = main()
    if code == EXIT_INTERRUPTED:
        quick_exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
