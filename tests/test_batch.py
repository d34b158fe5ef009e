"""sjko.batch.prefetch: a page's runs on several single-thread processes."""
import os
from pathlib import Path

import pytest

from sjko import batch


def _write_pid(path: str, value: int) -> None:
    Path(path).write_text(f"{value} {os.getpid()}")


def _fail() -> None:
    raise ValueError("this run failed")


def test_prefetch_runs_every_call_in_worker_processes(tmp_path):
    batch.prefetch([(_write_pid, dict(path=str(tmp_path / f"{i}"), value=i)) for i in range(4)],
                   jobs=2)
    written = [p.read_text().split() for p in sorted(tmp_path.iterdir())]
    assert [int(v) for v, _ in written] == [0, 1, 2, 3]
    assert all(int(pid) != os.getpid() for _, pid in written)


def test_prefetch_with_one_process_leaves_the_work_to_the_caller(tmp_path):
    batch.prefetch([(_write_pid, dict(path=str(tmp_path / f"{i}"), value=i)) for i in range(2)],
                   jobs=1)
    assert not list(tmp_path.iterdir())


def test_prefetch_reports_a_failed_run():
    with pytest.raises(ValueError, match="this run failed"):
        batch.prefetch([(_fail, {}), (_fail, {})], jobs=2)


def test_processes_follow_the_batch_share(monkeypatch):
    monkeypatch.setenv("SJKO_PROCESSES", "3")
    assert batch.processes() == 3
    monkeypatch.delenv("SJKO_PROCESSES")
    assert batch.processes() == (os.cpu_count() or 1)
