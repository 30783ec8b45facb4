"""The optional extras a command needs, checked before it starts.

A command that needs a package of an extra that is not installed says so in one line,
naming the package and the command that installs it, and exits with code 2 (instead of an
``ImportError`` traceback half-way through).
"""

from __future__ import annotations

import importlib

#: What installs the analysis extra.
ANALYSIS_INSTALL = "pip install 'civic-sim[analysis]' (make setup installs it)"


class MissingExtra(RuntimeError):
    """A package of an optional extra is not installed (one line)."""


def missing(modules: dict[str, str]) -> list[str]:
    """The labels of the modules (``{module: label}``) that cannot be imported."""
    gone = []
    for module, label in modules.items():
        try:
            importlib.import_module(module)
        except ImportError:
            gone.append(label)
    return gone


def require_analysis(what: str, modules: dict[str, str]) -> None:
    """Raise :class:`MissingExtra` if any of ``modules`` (of the ``analysis`` extra) is
    missing.

    Args:
        what: What needs them (``"calibrate SPEC (history matching)"``).
        modules: ``{module: label}``, for example ``{"sklearn": "scikit-learn"}``.
    """
    gone = missing(modules)
    if gone:
        verb = "is" if len(gone) == 1 else "are"
        raise MissingExtra(
            f"{what} needs {' and '.join(gone)}, which {verb} not installed: {ANALYSIS_INSTALL}"
        )
