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

import hashlib
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
    is_path = name.endswith(".py") or os.sep in name
    key = str(Path(name).resolve()) if is_path else name
    if not name or key in _loaded:
        return
    try:
        if is_path:
            path = Path(key)
            if not path.is_file():
                raise FileNotFoundError(path)
            # a module name unique to the file, so two 'rules.py' in different folders
            # do not replace each other
            digest = hashlib.sha1(key.encode()).hexdigest()[:8]
            module_name = f"civic_sim_plugin_{path.stem}_{digest}"
            spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
        else:
            importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - reported as one clear line
        raise ValueError(f"plugin '{name}' could not be loaded: {exc}") from exc
    _loaded.add(key)


def load_plugins(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Load plugins from entry points, ``CIVIC_SIM_PLUGINS`` and ``extra``; return names."""
    names = [ep.value for ep in entry_points(group="civic_sim.plugins")]
    names += [n for n in os.environ.get(ENV_VAR, "").split(",") if n.strip()]
    names += list(extra)
    for name in names:
        load_plugin(name)
    return names
