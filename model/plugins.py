"""Loading extensions from outside the package (strategies, scenarios, metrics, parameters).

A student's or researcher's module registers things at import time (with
``register_strategy``, ``register_scenario``, ``register_metric`` or
``register_parameter``). To make the CLI, experiment specs and the workshop page see
them, name the module:

* in the environment: ``CIVIC_SIM_PLUGINS=my_rules,other.module``;
* on the command line: ``civic-sim --plugin my_rules ...``;
* in a spec file: ``plugins = ["my_rules"]``;
* or as a package entry point in the group ``civic_sim.plugins``.

A module can also be a path to a ``.py`` file.

A plugin is part of the model a run used, so every loaded plugin is recorded with the
SHA-256 of its source (:func:`loaded_plugins`); the model fingerprint of a sweep
includes these hashes, so a plugin edited between an interrupted sweep and its resume
is noticed instead of mixing two versions in one folder.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

ENV_VAR = "CIVIC_SIM_PLUGINS"


@dataclass(frozen=True)
class LoadedPlugin:
    """A plugin module as it was loaded.

    Attributes:
        name: How it was named (dotted module name, or the resolved ``.py`` path).
        module: The module's name in ``sys.modules``.
        path: Its source file (a package's ``__init__.py``), or None if it has none.
        sha256: Hash of its source: the file, or every ``.py`` file of a package.
    """

    name: str
    module: str
    path: str | None
    sha256: str

    def as_dict(self) -> dict[str, str | None]:
        """Plain form (what the manifest records)."""
        return {"name": self.name, "module": self.module, "path": self.path, "sha256": self.sha256}


#: Loaded plugins by key (resolved path or dotted name), in load order.
_loaded: dict[str, LoadedPlugin] = {}


def source_hash(module) -> tuple[str | None, str]:
    """The source file of a module and the SHA-256 of its source.

    A package is hashed over every ``.py`` file below it (relative path and content), so
    an edit to any of its modules changes the hash; a module with no source file (built
    in, or compiled only) hashes its name.
    """
    file = getattr(module, "__file__", None)
    digest = hashlib.sha256()
    if not file or not Path(file).is_file():
        digest.update(module.__name__.encode())
        return None, digest.hexdigest()
    path = Path(file).resolve()
    if path.name == "__init__.py":
        for part in sorted(path.parent.rglob("*.py")):
            digest.update(part.relative_to(path.parent).as_posix().encode())
            digest.update(part.read_bytes())
    else:
        digest.update(path.read_bytes())
    return str(path), digest.hexdigest()


def _is_path(name: str) -> bool:
    return name.endswith(".py") or os.sep in name


def load_plugin(name: str) -> LoadedPlugin | None:
    """Import one plugin module by dotted name or ``.py`` path (once) and record it.

    Returns:
        The record of the plugin (None for an empty name).

    Raises:
        ValueError: If the module cannot be found or fails to import.
    """
    name = name.strip()
    key = str(Path(name).resolve()) if _is_path(name) else name
    if not name:
        return None
    if key in _loaded:
        return _loaded[key]
    try:
        if _is_path(name):
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
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(module_name, None)
                raise
        else:
            module = importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - reported as one clear line
        raise ValueError(f"plugin '{name}' could not be loaded: {exc}") from exc
    path, sha = source_hash(module)
    record = LoadedPlugin(name=key, module=module.__name__, path=path, sha256=sha)
    _loaded[key] = record
    return record


def plugin_names(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Names of the plugins to load: entry points, ``CIVIC_SIM_PLUGINS``, then ``extra``."""
    names = [ep.value for ep in entry_points(group="civic_sim.plugins")]
    names += [n for n in os.environ.get(ENV_VAR, "").split(",") if n.strip()]
    return names + list(extra)


def load_plugins(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Load plugins from entry points, ``CIVIC_SIM_PLUGINS`` and ``extra``; return names."""
    names = plugin_names(extra)
    for name in names:
        load_plugin(name)
    return names


def loaded_plugins() -> list[LoadedPlugin]:
    """Every plugin loaded in this process, in load order."""
    return list(_loaded.values())
