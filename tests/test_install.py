"""Installs are reproducible: the lock file drives them, for every supported Python.

* Every package ``requirements.lock`` pins for this Python is installed at exactly that
  version (``make`` installs with ``pip install -c requirements.lock``).
* The lock file covers Python 3.11 to 3.13 with one version of each package per Python,
  and it satisfies ``pyproject.toml``'s ranges; Python 3.12+ gets Mesa 3.4 or newer.
* ``tools/find_python.sh`` (the Makefile's choice of interpreter) takes the newest Python
  that really runs, skipping a pyenv shim that fails.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
SUPPORTED = ("3.11", "3.12", "3.13")


def locked() -> list[Requirement]:
    """The pins of the lock file (name==version ; marker)."""
    lines = LOCK.read_text(encoding="utf-8").splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith(" ")
            and not line.startswith("#")]  # fmt: skip


def for_python(minor: str, platform: str = "linux") -> dict[str, Version]:
    """What the lock file pins for one Python version (on Linux, CPython)."""
    env = {
        **default_environment(),
        "python_version": minor,
        "python_full_version": f"{minor}.9",
        "sys_platform": platform,
        "implementation_name": "cpython",
    }
    pins: dict[str, Version] = {}
    for req in locked():
        if req.marker is None or req.marker.evaluate(env):
            name = canonicalize_name(req.name)
            assert name not in pins, f"{req.name} is pinned twice for Python {minor}"
            (spec,) = req.specifier
            assert spec.operator == "==", f"{req} is not an exact pin"
            pins[name] = Version(spec.version)
    return pins


def test_every_locked_package_is_installed_at_its_locked_version():
    env = default_environment()
    wrong = []
    for req in locked():
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        (spec,) = req.specifier
        try:
            have = version(req.name)
        except PackageNotFoundError:
            wrong.append(f"{req.name} (locked {spec.version}) is not installed")
            continue
        if Version(have) != Version(spec.version):
            wrong.append(f"{req.name} {have} installed, {spec.version} locked")
    assert not wrong, "the environment does not match requirements.lock: " + "; ".join(wrong)


@pytest.mark.parametrize("minor", SUPPORTED)
def test_the_lock_covers_each_supported_python_within_pyproject_ranges(minor):
    pins = for_python(minor)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    env = {**default_environment(), "python_version": minor, "python_full_version": f"{minor}.9"}
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += [r for r in extra if not r.startswith("civic-sim")]
    for line in wanted:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in the lock file for Python {minor}"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"lock pins {req.name} {pins[name]} for Python {minor}, outside {req.specifier}"
        )
    newest_mesa_allowed = Version("3.4") if minor != "3.11" else Version("3.3")
    assert pins["mesa"] >= newest_mesa_allowed and pins["mesa"] < Version("4")


def _fake_python(path: Path, lines: str) -> None:
    path.write_text("#!/bin/sh\n" + lines + "\n", encoding="utf-8")
    path.chmod(0o755)


def test_find_python_takes_the_newest_that_runs_and_skips_a_broken_shim(tmp_path):
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for minor in SUPPORTED:
        if minor != here:  # a pyenv shim with no version selected
            _fake_python(
                bin_dir / f"python{minor}",
                f'echo "pyenv: python{minor}: command not found" >&2; exit 127',
            )
    (bin_dir / f"python{here}").symlink_to(sys.executable)
    env = {
        "PATH": f"{bin_dir}:/nonexistent",
        "HOME": str(tmp_path),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
    }
    script = ["/bin/sh", str(ROOT / "tools" / "find_python.sh")]
    done = subprocess.run(script, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(bin_dir / f"python{here}")
    # asked only for versions whose shims are broken: none, and exit status 1
    broken = [m for m in SUPPORTED if m != here]
    none = subprocess.run(script + broken, env=env, capture_output=True, text=True, timeout=60)
    assert none.returncode == 1 and none.stdout == ""


def test_dask_missing_from_a_core_install_is_one_clear_error(monkeypatch):
    from experiments.executors import ExecutorError, open_executor

    for name in ("dask", "dask.distributed", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # as if the extra were not installed
    # a sweep turns the executor's error into its one line and exit 2 (SweepError)
    with pytest.raises(ExecutorError, match=r"--dask needs Dask.*civic-sim\[dask\]"):
        with open_executor(dask="local"):
            pass


def test_analysis_missing_from_a_core_install_is_one_clear_line(monkeypatch):
    from experiments import exploration, sensitivity
    from experiments import spec as specs

    spec = specs.parse_spec(
        tomllib.loads(
            'name = "m"\nstrategies = ["direct"]\nsteps = 2\n[design]\ntype = "morris"\n'
            "trajectories = 2\nlevels = 4\nseed = 1\n[design.ranges]\n"
            "civic_potential = [0.1, 0.9]\nbudget_scale = [0.5, 3.0]\n"
        )
    )
    for name in ("SALib", "ema_workbench", "sklearn"):
        monkeypatch.setitem(sys.modules, name, None)  # as if the extra were not installed
    with pytest.raises(specs.SpecError, match=r"need SALib.*civic-sim\[analysis\]"):
        sensitivity.unit_sample(spec.design, 1)
    note = exploration.missing_extra("discovery")
    assert "needs the EMA Workbench and scikit-learn, which are not installed" in note.body
    assert "civic-sim[analysis]" in exploration.missing_extra("sensitivity").body
