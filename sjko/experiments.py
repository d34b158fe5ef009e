"""Run-or-load: every experiment result lives under ``results/<experiment>/<config-hash>/``.

A run is identified by its experiment name, its parameters (any JSON-able dict, typically an
``SJKOConfig.to_dict()`` plus evaluation settings) and a fingerprint of the package's training
code. The same call with the same parameters and code loads the stored result; a changed field or
changed training code gives a new hash and trains again. Each run folder holds

* ``record.json`` -- parameters, seed, git commit, package version, wall time, host, date, hash;
* ``metrics.json`` -- what the computation returned;
* whatever the computation wrote itself (``samples.npz``, figures).

``record.json`` is written last and the folder is renamed into place, so an interrupted run never
looks finished. ``force=True`` (or ``SJKO_FORCE=1``) recomputes. The root is ``$SJKO_RESULTS`` or
``results/`` at the repository root.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
# Modules whose changes cannot change a result (presentation, orchestration, benchmarks; the
# presets only build configurations, whose every field is part of a run's parameters).
NOT_FINGERPRINTED = {"plotting.py", "report.py", "paper.py", "batch.py", "bench.py",
                     "__init__.py", "presets.py", "migrate.py", "ou_pages.py",
                     "image_pages.py"}


def results_root() -> Path:
    return Path(os.environ.get("SJKO_RESULTS", REPO_ROOT / "results"))


def _flag_from_env(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0", "false", "False")


def force_from_env() -> bool:
    return _flag_from_env("SJKO_FORCE")


def load_only_from_env() -> bool:
    """``SJKO_LOAD_ONLY=1``: never train; a run missing from the cache raises ResultMissing."""
    return _flag_from_env("SJKO_LOAD_ONLY")


class ResultMissing(LookupError):
    """A run is not in the result cache and training is switched off (``SJKO_LOAD_ONLY``)."""


def set_force(flag: bool) -> None:
    """Make every later :func:`run_or_load` in this process recompute (the notebooks' ``force``)."""
    os.environ["SJKO_FORCE"] = "1" if flag else ""


def _code_only(source: str) -> str:
    """The module's syntax tree without docstrings: comments, formatting and documentation edits
    do not change it, any change to what the code does does."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False)


@lru_cache(maxsize=None)
def code_fingerprint(subpackages: tuple[str, ...] = ()) -> str:
    """Hash of the training code: the package's top-level modules (but presentation and
    orchestration) plus the named subpackages (e.g. ``("images",)`` for image experiments)."""
    digest = hashlib.sha256()
    paths = [p for p in sorted(PACKAGE_DIR.glob("*.py")) if p.name not in NOT_FINGERPRINTED]
    for sub in subpackages:
        paths += sorted((PACKAGE_DIR / sub).rglob("*.py"))
    for path in paths:
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(_code_only(path.read_text()).encode())
    return digest.hexdigest()[:16]


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def config_hash(experiment: str, params: dict, subpackages: tuple[str, ...] = ()) -> str:
    """Short hash of (experiment, parameters, training code)."""
    blob = _canonical({"experiment": experiment, "params": params,
                       "code": code_fingerprint(tuple(subpackages))})
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sjko"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@dataclass
class Result:
    """A stored run: its folder, metrics and provenance record; ``hit`` when loaded from cache."""

    path: Path
    metrics: dict
    record: dict
    hit: bool

    def file(self, name: str) -> Path:
        return self.path / name


def run_or_load(experiment: str, params: dict, compute: Callable[[Path], dict],
                force: Optional[bool] = None, command: str = "",
                subpackages: tuple[str, ...] = ()) -> Result:
    """Load ``results/<experiment>/<hash>/`` or run ``compute(folder) -> metrics`` to create it.

    ``compute`` writes any files it wants into the folder it is given and returns JSON-able
    metrics. ``command`` is recorded as the way to regenerate the result; ``subpackages`` name
    the parts of the package beyond the core that the computation uses (part of the hash).
    """
    from . import __version__

    force = force_from_env() if force is None else force
    key = config_hash(experiment, params, subpackages)
    final = results_root() / experiment / key
    record_path = final / "record.json"
    if record_path.is_file() and not force:
        return Result(final, json.loads((final / "metrics.json").read_text()),
                      json.loads(record_path.read_text()), hit=True)
    if load_only_from_env():
        raise ResultMissing(f"results/{experiment}/{key} is not in the result cache and "
                            f"SJKO_LOAD_ONLY is set; compute it with "
                            f"{command or 'the notebook or script that defines it'}")
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=final.parent))
    try:
        start = time.perf_counter()
        metrics = compute(tmp)
        wall = time.perf_counter() - start
        (tmp / "metrics.json").write_text(json.dumps(metrics, indent=1, default=float))
        record = {"experiment": experiment, "hash": key, "params": params,
                  "seed": params.get("seed"), "git_commit": git_commit(),
                  "code_fingerprint": code_fingerprint(tuple(subpackages)),
                  "package_version": __version__,
                  "wall_seconds": round(wall, 2), "host": platform.node(),
                  "platform": platform.platform(), "cpu_count": os.cpu_count(),
                  "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "command": command}
        (tmp / "record.json").write_text(json.dumps(record, indent=1, default=str))
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Result(final, metrics, record, hit=False)


def all_records(root: Optional[Path] = None) -> list[dict]:
    """Every finished run's record under the results root (for the reproducibility page)."""
    root = results_root() if root is None else root
    return [json.loads(p.read_text()) for p in sorted(root.glob("*/*/record.json"))]
