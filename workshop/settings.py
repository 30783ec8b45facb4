"""The page's settings: strategy, scenario preset, the sliders, the seed and Play's pace.

Nothing here draws or runs a model. Sliders are built from
:data:`model.parameters.PARAMETER_FIELDS` (their ranges stay inside each parameter's
allowed range, their help text is the parameter's documentation), and the strategy and
scenario lists come from the registries, so a strategy or preset registered by a plugin
appears on the page without edits here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from model.parameters import PARAMETER_FIELDS, Parameters
from model.scenarios import get_scenario, scenario_names
from model.strategies import strategy_classes

#: Residents at the default workshop size: about a 40 x 40 grid of street blocks.
WORKSHOP_RESIDENTS = 800

#: Weeks in a workshop run: ten years. Play stops here; the results card shows.
HORIZON_WEEKS = 520

#: Play's pace: label -> seconds that ten years take. The frame rate adapts to the
#: server's load (busier server, fewer frames, more weeks a frame), not the pace.
PACES = {
    "Slow (10 years in 60 s)": 60.0,
    "Normal (10 years in 30 s)": 30.0,
    "Fast (10 years in 15 s)": 15.0,
}
DEFAULT_PACE = "Normal (10 years in 30 s)"

#: Largest seed the model takes (``Parameters.seed``'s upper bound).
SEED_MAX = int(PARAMETER_FIELDS["seed"].metadata["hi"])


def weeks_per_second(pace: str) -> float:
    """Weeks a second that Play advances at a pace of :data:`PACES`."""
    try:
        return HORIZON_WEEKS / PACES[pace]
    except KeyError:
        raise ValueError(f"pace must be one of {', '.join(PACES)}, got {pace!r}") from None


# --- sliders -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SliderSpec:
    """A workshop slider for one model parameter.

    Attributes:
        name: Parameter name (a key of ``PARAMETER_FIELDS``).
        label: Plain-language label.
        min: Lowest value on the slider (within the parameter's allowed range).
        max: Highest value on the slider.
        step: Slider step.
        kind: ``"percent"`` (shown as % a year), ``"times"`` (x today's), ``"share"``
            (0-1) or ``"count"`` (whole number).
        help: One line from the parameter's documentation.
        unit: The parameter's unit.
    """

    name: str
    label: str
    min: float
    max: float
    step: float
    kind: str
    help: str = ""
    unit: str = ""

    @property
    def is_int(self) -> bool:
        """Whether the parameter takes whole numbers."""
        return self.kind == "count"

    def format(self, value: float) -> str:
        """Return the value in plain words with its unit."""
        if self.kind == "percent":
            return f"{value * 100:+.1f}% a year" if value < 0 else f"{value * 100:.1f}% a year"
        if self.kind == "times":
            return f"{value:.2f} × today's"
        if self.kind == "share":
            return f"{value:.2f} (0 none – 1 very high)"
        return f"{int(value):,} {self.unit}".strip()


# name, label, workshop min, max, step, kind (clamped to the parameter's allowed range)
_SLIDERS = (
    ("budget_scale", "Council care budget", 0.25, 2.0, 0.05, "times"),
    ("budget_cut_rate", "Budget cut each year (real terms)", -0.02, 0.10, 0.005, "percent"),
    ("older_growth_rate", "Growth of the older population", 0.0, 0.05, 0.0025, "percent"),
    ("civic_potential", "Civic potential of the neighbourhood", 0.0, 1.0, 0.05, "share"),
    ("residents", "Older residents (65+) at the start", 200, 3000, 100, "count"),
)

SLIDER_NAMES = tuple(s[0] for s in _SLIDERS)


def slider_specs() -> list[SliderSpec]:
    """Return the workshop sliders, with ranges inside each parameter's allowed range."""
    specs = []
    for name, label, lo, hi, step, kind in _SLIDERS:
        meta = PARAMETER_FIELDS[name].metadata
        if meta["lo"] is not None:
            lo = max(lo, meta["lo"])
        if meta["hi"] is not None:
            hi = min(hi, meta["hi"])
        specs.append(
            SliderSpec(name, label, lo, hi, step, kind, help=meta["doc"], unit=meta["unit"])
        )
    return specs


# --- registries ---------------------------------------------------------------------------
def strategy_options() -> list[tuple[str, str, str]]:
    """(name, title, description) of every registered strategy."""
    return [
        (name, cls.title or name, cls.description or (cls.__doc__ or "").strip())
        for name, cls in strategy_classes().items()
    ]


def scenario_options() -> list[tuple[str, str, str]]:
    """(name, title, description) of every registered scenario preset."""
    out = []
    for name in scenario_names():
        s = get_scenario(name)
        out.append((name, s.title or name, s.description))
    return out


def strategy_title(name: str) -> str:
    """The plain-language title of a registered strategy (its name if it has none)."""
    return {n: t for n, t, _d in strategy_options()}.get(name, name)


def scenario_title(name: str) -> str:
    """The plain-language title of a registered scenario preset."""
    return {n: t for n, t, _d in scenario_options()}.get(name, name)


def default_pair() -> tuple[str, str]:
    """Strategies of the side-by-side view at the start: direct versus facilitator hub.

    Falls back to the first two registered strategies if either is missing.
    """
    names = [n for n, _t, _d in strategy_options()]
    pair = ("direct", "facilitator")
    if all(n in names for n in pair):
        return pair
    return (names[0], names[min(1, len(names) - 1)])


# --- settings -----------------------------------------------------------------------------
def default_settings() -> dict[str, object]:
    """Workshop start settings: baseline preset, direct delivery, 800 residents, seed 1."""
    settings: dict[str, object] = {"strategy": "direct", "scenario": "baseline", "seed": 1}
    names = [n for n, _t, _d in strategy_options()]
    if "direct" not in names and names:
        settings["strategy"] = names[0]
    settings.update(preset_values("baseline", residents=WORKSHOP_RESIDENTS))
    return settings


def preset_values(scenario: str, residents: int = WORKSHOP_RESIDENTS) -> dict[str, object]:
    """Slider values a scenario preset implies: its own values, else the defaults.

    ``residents`` is kept as given unless the preset sets it.
    """
    preset = get_scenario(scenario).values
    values: dict[str, object] = {}
    for name in SLIDER_NAMES:
        if name in preset:
            values[name] = preset[name]
        elif name == "residents":
            values[name] = int(residents)
        else:
            values[name] = PARAMETER_FIELDS[name].default
    return values


def moved_sliders(settings: Mapping[str, object]) -> list[str]:
    """Names of the sliders whose values differ from what the chosen preset sets.

    The number of residents is the workshop's size, not part of a preset, so it never
    counts as moved.
    """
    preset = preset_values(str(settings["scenario"]), int(settings["residents"]))
    return [
        name
        for name in SLIDER_NAMES
        if name != "residents" and not math.isclose(float(settings[name]), float(preset[name]))
    ]


def scenario_label(settings: Mapping[str, object]) -> str:
    """The scenario's title, or "Custom (from Baseline)" once a slider has moved off it."""
    title = scenario_title(str(settings["scenario"]))
    return f"Custom (from {title})" if moved_sliders(settings) else title


def model_kwargs(settings: Mapping[str, object]) -> dict[str, object]:
    """Keyword arguments for ``CivicModel`` from the page's settings (validated).

    Raises:
        ValueError: Naming the parameter and what is allowed, for a bad value.
    """
    kwargs = {k: settings[k] for k in ("strategy", "scenario", "seed", *SLIDER_NAMES)}
    Parameters.resolve(**dict(kwargs))  # one clear ValueError before any building
    return kwargs


def parse_seed(text: str) -> int:
    """Read the seed field: a whole number from 0 to :data:`SEED_MAX`, exactly.

    The text is read as an integer (never through a float, so a large seed keeps every
    digit); spaces around it, and ``_`` or ``,`` between digits, are allowed.

    Raises:
        ValueError: With a plain-language message for the seed field.
    """
    raw = str(text).strip()
    digits = raw.replace("_", "").replace(",", "")
    if not raw:
        raise ValueError("Type a seed: a whole number such as 1 or 42.")
    if digits.startswith("-") and digits[1:].isdigit():
        raise ValueError(f"The seed cannot be negative: use a whole number from 0 to {SEED_MAX:,}.")
    if not digits.isdigit():
        if _is_number(digits):
            raise ValueError(f"The seed must be a whole number (no decimal point), not {raw}.")
        raise ValueError(f"The seed must be a whole number such as 1 or 42, not “{raw}”.")
    value = int(digits)
    if value > SEED_MAX:
        raise ValueError(f"That seed is too large: the largest is {SEED_MAX:,}.")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
