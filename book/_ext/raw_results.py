"""Sphinx extension: publish each stored run's record.json and metrics.json with the site.

The results pages link to ``_results/<experiment>/<hash>/record.json`` (see
``sjko.report.reproduce``); this copies those two small files of every run under the repository's
``results/`` into the built HTML, and nothing else (samples and checkpoints stay out of the site).
"""
import shutil
from pathlib import Path


def copy_results(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from sjko.experiments import results_root  # $SJKO_RESULTS or the repository's results/

    results = results_root()
    out = Path(app.outdir) / "_results"
    for path in results.glob("*/*/*.json"):
        if path.name in ("record.json", "metrics.json"):
            target = out / path.relative_to(results)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


def setup(app):
    app.connect("build-finished", copy_results)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
