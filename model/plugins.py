"""Loading extensions from outside the package (strategies, scenarios, metrics).

A student's or researcher's module registers things at import time (with
``register_strategy``, ``register_scenario`` or ``register_metric``). To make the CLI,
experiment specs and the workshop page see them, name the module:

* in the environment: ``CIVIC_SIM_PLUGINS=my_rules,other.module``;
* on the command line: ``civic-sim --plugin my_rules ...``;
* in a spec file: ``plugins = ["my_rules"]``;
* or as a package entry point in the group ``civic_sim.plugins``.

A module can also be a path to a ``.py`` file.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path

ENV_VAR = "CIVIC_SIM_PLUGINS"
_loaded: set[str] = set()


def load_plugin(name: str) -> None:
    """Import one plugin module by dotted name or ``.py`` path (once).

    Raises:
        ValueError: If the module cannot be found or fails to import.
    """
    name = name.strip()
    if not name or name in _loaded:
        return
    try:
        if name.endswith(".py") or os.sep in name:
            path = Path(name).resolve()
            if not path.is_file():
                raise FileNotFoundError(path)
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[path.stem] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - reported as one clear line
        raise ValueError(f"plugin '{name}' could not be loaded: {exc}") from exc
    _loaded.add(name)


def load_plugins(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Load plugins from entry points, ``CIVIC_SIM_PLUGINS`` and ``extra``; return names."""
    names = [ep.value for ep in entry_points(group="civic_sim.plugins")]
    names += [n for n in os.environ.get(ENV_VAR, "").split(",") if n.strip()]
    names += list(extra)
    for name in names:
        load_plugin(name)
    return names
