from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(2)
    yield


@pytest.fixture(scope="session")
def smoke_notebooks(tmp_path_factory):
    """Every notebook executed once at the smoke profile (results in a temporary store):
    ``{name: seconds or exception}`` and the folders of the executed notebooks and results."""
    import os

    from sjko import batch

    base = tmp_path_factory.mktemp("smoke")
    out, results = base / "executed", base / "results"
    old = {k: os.environ.get(k) for k in ("SJKO_RESULTS", "SJKO_FORCE")}
    os.environ["SJKO_RESULTS"] = str(results)
    os.environ.pop("SJKO_FORCE", None)
    outcome = {}
    try:
        for name in batch.discover(ROOT / "notebooks"):
            try:
                outcome[name] = batch.execute(name, "smoke", False, ROOT / "notebooks", out)
            except Exception as err:  # reported by the test of that notebook
                outcome[name] = err
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {"outcome": outcome, "executed": out, "results": results}
