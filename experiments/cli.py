"""The ``civic-sim`` command line: run, list, sweep and report.

::

    civic-sim run --strategy facilitator --scenario austerity --steps 520 --out run.parquet
    civic-sim list [strategies|scenarios|parameters|metrics]
    civic-sim sweep experiments/specs/strategy_comparison.toml --out results/cmp
    civic-sim report results/cmp
    civic-sim calibrate --check

``--plugin MODULE_OR_PATH`` (repeatable, before or after the command) loads extension
modules first, so their strategies, scenarios and metrics can be used everywhere.

Any mistake in the input (an unknown name, a value out of range, a broken spec) is
reported as one line on stderr naming the field and what is allowed, with exit code 2.
A sweep in which some runs failed exits with 1 after finishing the others.
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
    run.add_argument("--strategy", default="direct", help="council strategy (default direct)")
    run.add_argument("--scenario", default="baseline", help="scenario preset (default baseline)")
    run.add_argument("--steps", type=int, default=520, help="weeks to run (default 520)")
    run.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
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
        "--rerun-changed",
        action="store_true",
        help="run again the finished runs made by another version of the model",
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
    report.add_argument("folder", help="the sweep's output folder")
    report.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="final-year unmet share counted as a bad outcome (default: the spec's "
        "report.risk_threshold, else the baseline strategy's median at each design point)",
    )
    report.add_argument("--baseline", default=None, help="strategy compared against")
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
    from model.parameters import Parameters, coerce

    overrides = _parse_sets(args.sets)
    if args.residents is not None:
        try:
            overrides["residents"] = coerce("residents", args.residents)
        except ValueError as exc:
            raise UsageError(f"--residents: {exc}") from None
    if args.steps < 1:
        raise UsageError(f"--steps must be a positive integer, got {args.steps}")
    out = Path(args.out) if args.out else None
    if out is not None and out.suffix not in OUTPUT_SUFFIXES:
        raise UsageError(f"--out must end in {' or '.join(OUTPUT_SUFFIXES)}, got {str(out)!r}")
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    try:
        chosen = {"scenario": args.scenario, "strategy": args.strategy, "seed": seed}
        params = Parameters.resolve(**{**chosen, **overrides})  # --set wins
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if out is not None:
        from experiments.store import ensure_writable_folder

        try:
            ensure_writable_folder(out.parent)
        except ValueError as exc:
            raise UsageError(f"--out: {exc}") from None

    from tqdm import tqdm

    from model.civic_model import CivicModel

    model = CivicModel(params, check=args.check)
    with tqdm(
        total=args.steps,
        desc=f"{params.strategy}/{params.scenario}",
        unit="week",
        file=sys.stderr,
        disable=args.no_progress,
    ) as bar:
        frame = model.run(args.steps, progress=lambda _week: bar.update(1))
    if out is not None:
        from experiments.store import write_frame

        write_frame(frame, out)
    print(
        f"{params.strategy} / {params.scenario}, {params.residents} residents, "
        f"{args.steps} weeks, seed {params.seed}"
    )
    print(first_last_table(frame))
    if out is not None:
        print(f"weekly metrics written to {out}")
    return EXIT_OK


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
        lines = ["Parameters (--set NAME=VALUE): name, default, allowed, unit"]
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
        blocks.append("\n".join(lines))
    if show in ("all", "metrics"):
        lines = ["Metrics (weekly columns):"]
        for name, doc in metric_docs().items():
            lines.append(f"  {name:<28} {doc}")
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))
    return EXIT_OK


def cmd_sweep(args) -> int:
    """``civic-sim sweep SPEC``: run (or resume) every run of an experiment."""
    from experiments import runner
    from experiments.spec import SpecError, check_values, load_spec

    try:
        spec = load_spec(args.spec)
        try:
            # the same list the runs load (once per process: serial runs reuse this)
            runner.ensure_plugins(args.plugins + spec.plugins)
        except ValueError as exc:
            raise SpecError(f"spec.plugins: {exc}") from None
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
        )
    except (SpecError, runner.SweepError) as exc:
        raise UsageError(str(exc)) from None
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
    """``civic-sim report DIR``: report.md, report.html and figures from a sweep."""
    from experiments.report import write_report

    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise UsageError(f"--threshold must be a number from 0 to 1, got {args.threshold}")
    folder = Path(args.folder)
    if not (folder / "manifest.json").is_file():
        raise UsageError(f"report: {str(folder)!r} is not a sweep folder (no manifest.json)")
    try:
        paths = write_report(folder, threshold=args.threshold, baseline=args.baseline)
    except ValueError as exc:
        raise UsageError(f"report: {exc}") from None
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

    if args.check or args.sets or args.targets:
        raise UsageError("calibrate SPEC: --check, --set and --targets are for the check only")
    if args.executor not in runner.EXECUTORS:
        raise UsageError(
            f"--executor must be one of {', '.join(runner.EXECUTORS)}, got {args.executor!r}"
        )
    try:
        spec = calibrate.load_calibration_spec(args.spec)
    except calibrate.CalibrationError as exc:
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
        f"{spec.replicates} replicates x {len(spec.scenarios)} scenarios; output in {spec.out}",
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
    except KeyboardInterrupt:
        print("civic-sim: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
