"""Batch reruns: execute every experiment notebook through papermill.

    python -m sjko.batch --profile quick [--only toy,ou_benchmark] [--force] [--jobs N]

Each ``notebooks/<name>.py`` (jupytext percent format) is converted, executed with the parameters
``profile`` and ``force``, and written to ``book/results/<name>.ipynb`` where the book includes it.
The executed notebook is written to a temporary file and renamed only on success; on failure the
old output is removed (no stale notebook that looks fresh) and the command exits non-zero,
naming the notebook and the error.

A notebook whose execution trained at least one run leaves a timing record,
``<results>/batch/<name>-<profile>.json`` (:func:`record_timing`): its wall time, the processes
it had, how many runs it computed and how many were already stored. The page reads it back
(``sjko.report.batch_timing``) to state what a rerun from an empty result root costs. When a
page's configuration changes, :func:`mark_superseded` keeps its record but says why it no longer
times the page; the page then reports it as the cost of an earlier configuration.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from concurrent.futures import (FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor,
                                as_completed, wait)
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .experiments import (REPO_ROOT, ResultMissing, code_fingerprint, force_from_env,
                          load_only_from_env, results_root)

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
OUTPUT_DIR = REPO_ROOT / "book" / "results"
PROFILES = ("smoke", "quick", "full")


LAST = "reproducibility"
#: Notebooks that read another notebook's runs start only once it has finished (when both are in
#: one batch): the Inception page scores the samples the images page stores.
AFTER = {"images_inception": ("images",)}


def discover(notebook_dir: Path) -> list[str]:
    """Notebook names (file stems) in ``notebook_dir``, sorted; the reproducibility listing of all
    stored runs comes last."""
    names = sorted(p.stem for p in notebook_dir.glob("*.py") if not p.name.startswith("_"))
    return sorted(names, key=lambda n: n == LAST)


def stored_runs(root: Optional[Path] = None) -> int:
    """Number of finished runs in the result root that the current code can load: a
    ``record.json`` with the current code fingerprint (of the core or of the image experiments);
    runs of older code are not counted."""
    root = results_root() if root is None else root
    current = {code_fingerprint(), code_fingerprint(("images",))}
    return sum(json.loads(p.read_text()).get("code_fingerprint") in current
               for p in root.glob("*/*/record.json"))


def timing_file(name: str, profile: str, root: Optional[Path] = None) -> Path:
    """Where :func:`record_timing` writes notebook ``name``'s record for ``profile``."""
    return (results_root() if root is None else root) / "batch" / f"{name}-{profile}.json"


def record_timing(name: str, profile: str, wall_seconds: float, runs_before: int,
                  runs_after: int, processes: int, root: Optional[Path] = None,
                  resumed: int = 0) -> Path:
    """Write the timing record of one notebook execution that trained runs (see module doc).

    ``runs_before`` / ``runs_after``: :func:`stored_runs` before and after it (runs of notebooks
    executed at the same time, ``--jobs`` > 1, count too); ``processes``: the prefetch processes
    it was given; ``resumed``: how many of the computed runs resumed a training checkpoint (their
    iterations before it are not in ``wall_seconds``).
    """
    path = timing_file(name, profile, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "notebook": name, "profile": profile, "wall_seconds": round(wall_seconds, 1),
        "runs_before": runs_before, "runs_computed": runs_after - runs_before,
        "runs_resumed": resumed, "processes": processes, "cpu_count": os.cpu_count(),
        "host": platform.node(), "date": datetime.datetime.now(datetime.timezone.utc)
        .isoformat(timespec="seconds")}, indent=1) + "\n")
    return path


def mark_superseded(name: str, profile: str, why: str, root: Optional[Path] = None) -> Path:
    """Mark notebook ``name``'s timing record for ``profile`` as the cost of an earlier
    configuration (``why``: what changed); the next execution that trains runs replaces it."""
    path = timing_file(name, profile, root)
    if not path.is_file():
        raise FileNotFoundError(f"no timing record of {name!r} for profile {profile!r} at {path}")
    if not why.strip():
        raise ValueError("say what changed: why must not be empty")
    record = json.loads(path.read_text())
    path.write_text(json.dumps({**record, "superseded": why.strip()}, indent=1) + "\n")
    return path


def execute(name: str, profile: str, force: bool, notebook_dir: Path, output_dir: Path) -> float:
    """Execute one notebook; returns its wall time. Raises on failure (after removing output)."""
    import jupytext
    import papermill as pm

    src = notebook_dir / f"{name}.py"
    out = output_dir / f"{name}.ipynb"
    output_dir.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(src)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3",
                                          "language": "python"})
    before, start = stored_runs(), time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        inp = Path(tmp) / f"{name}.ipynb"
        jupytext.write(nb, inp)
        partial = output_dir / f".{name}.partial.ipynb"
        try:
            pm.execute_notebook(str(inp), str(partial),
                                parameters={"profile": profile, "force": force},
                                kernel_name="python3", cwd=str(REPO_ROOT), progress_bar=False,
                                log_output=False)
        except BaseException:
            out.unlink(missing_ok=True)
            partial.unlink(missing_ok=True)
            raise
        present(partial)
        os.replace(partial, out)
    seconds, after = time.perf_counter() - start, stored_runs()
    # under SJKO_LOAD_ONLY the notebook trained nothing: new runs are another process's
    if after > before and not load_only_from_env():
        record_timing(name, profile, seconds, before, after, processes())
    return seconds


HIDDEN = {"remove-cell", "remove-input", "hide-input", "hide-cell", "hide-output"}


def present(path: Path) -> None:
    """Tag an executed notebook for reading: the source's parameters cell is removed (papermill's
    injected cell, which holds the values actually used, stays, collapsed), and every code cell
    without a tag of its own gets its input collapsed ("hide-input": expandable, not removed)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        if "parameters" in tags:
            tags.append("remove-cell")
        elif not HIDDEN.intersection(tags):
            tags.append("hide-input")
    nbformat.write(nb, path)


def _short_error(err: BaseException) -> str:
    name = getattr(err, "ename", type(err).__name__)
    value = getattr(err, "evalue", str(err))
    return f"{name}: {value}".strip()


def processes() -> int:
    """Worker processes a notebook may use for :func:`prefetch`: ``SJKO_PROCESSES`` (set by
    :func:`run_batch` to its share of the cores), else every core."""
    return max(1, int(os.environ.get("SJKO_PROCESSES", os.cpu_count() or 1)))


def _single_thread() -> None:
    import torch

    torch.set_num_threads(1)


def prefetch(calls: Sequence[tuple[Callable[..., Any], dict]], jobs: Optional[int] = None
             ) -> None:
    """Run ``fn(**kw)`` for every ``(fn, kw)`` in ``calls``, in submission order, on ``jobs``
    single-thread processes (default :func:`processes`), so that each run lands in the result
    cache; the caller then calls the functions again and loads the results. Two single-thread
    processes give more throughput than one two-thread process on small networks. Each ``fn``
    must be importable (a module-level function), its arguments picklable. Calls whose runs are
    already stored are left to the caller (no processes are started for a page read from the
    cache)."""
    jobs = processes() if jobs is None else jobs
    if jobs <= 1 or len(calls) <= 1:
        return
    calls = missing(calls)
    if len(calls) <= 1:
        return
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"),
                             initializer=_single_thread) as pool:
        for fut in as_completed([pool.submit(fn, **kw) for fn, kw in calls]):
            fut.result()  # a failed run raises here, with its own message


def missing(calls: Sequence[tuple[Callable[..., Any], dict]]
            ) -> list[tuple[Callable[..., Any], dict]]:
    """The calls that would train: each is called with training switched off (a stored run is
    only loaded); under ``SJKO_FORCE`` all of them."""
    from .report import load_only

    if force_from_env():
        return list(calls)
    out = []
    with load_only():
        for fn, kw in calls:
            try:
                fn(**kw)
            except ResultMissing:
                out.append((fn, kw))
    return out


def waits_for(name: str, names: Sequence[str]) -> set[str]:
    """The notebooks of ``names`` that must finish before ``name`` starts: every other one for
    the reproducibility listing, those named in ``AFTER`` otherwise."""
    if name == LAST:
        return set(names) - {LAST}
    return set(AFTER.get(name, ())) & set(names)


def run_batch(names: Sequence[str], profile: str, force: bool = False, jobs: int = 1,
              notebook_dir: Path = NOTEBOOK_DIR, output_dir: Path = OUTPUT_DIR) -> int:
    """Run notebooks (``jobs`` at a time, each once the notebooks it waits for have finished:
    :func:`waits_for`); print progress; return the number of failures."""
    failures: list[tuple[str, str]] = []
    count = iter(range(1, len(names) + 1))
    # Kernels inherit the environment: share the cores between the notebooks that run at once
    # (oversubscribed torch threads slow small networks down by an order of magnitude); one
    # notebook gets every core for its prefetch processes. An explicit setting wins.
    share = str(max(1, (os.cpu_count() or 1) // max(1, min(jobs, len(names)))))
    os.environ.setdefault("OMP_NUM_THREADS", share)
    os.environ.setdefault("SJKO_PROCESSES", share)
    print(f"sjko.batch: {len(names)} notebook(s), profile={profile}, force={force}, jobs={jobs}",
          flush=True)

    def report(name: str, fut) -> None:
        i = next(count)
        try:
            print(f"[{i}/{len(names)}] {name}: ok ({fut.result():.0f} s)", flush=True)
        except Exception as err:  # report every failure, then exit non-zero
            failures.append((name, _short_error(err)))
            print(f"[{i}/{len(names)}] {name}: FAILED -- {_short_error(err)}", flush=True)
            if os.environ.get("SJKO_BATCH_TRACEBACK"):
                traceback.print_exception(err)

    pending, finished, running = list(names), set(), {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        while pending or running:
            for n in [n for n in pending if waits_for(n, names) <= finished]:
                pending.remove(n)
                running[pool.submit(execute, n, profile, force, notebook_dir, output_dir)] = n
            if not running:
                raise RuntimeError(f"notebooks {pending} wait for each other (sjko.batch.AFTER)")
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                finished.add(running[fut])
                report(running.pop(fut), fut)
    for name, msg in failures:
        print(f"sjko.batch: notebook {notebook_dir / (name + '.py')} failed: {msg}",
              file=sys.stderr)
    return len(failures)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sjko.batch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=PROFILES, default="quick")
    parser.add_argument("--only", default="", help="comma-separated notebook names")
    parser.add_argument("--force", action="store_true", help="recompute cached results")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR)
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR)
    args = parser.parse_args(argv)
    available = discover(args.notebooks)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or available
    unknown = sorted(set(names) - set(available))
    if unknown:
        parser.error(f"unknown notebook(s) {unknown}; available: {available}")
    sys.exit(1 if run_batch(names, args.profile, args.force, args.jobs, args.notebooks,
                            args.output) else 0)


if __name__ == "__main__":
    main()
