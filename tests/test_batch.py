"""sjko.batch.prefetch: a page's runs on several single-thread processes."""
import os

import pytest

from sjko import batch, experiments, report


def _stored_pid(value: int) -> dict:
    """A cached run that records which process computed it."""
    return experiments.run_or_load("prefetch_test", {"value": value},
                                   lambda folder: {"value": value, "pid": os.getpid()}).metrics


def _failing_run() -> dict:
    def compute(folder):
        raise ValueError("this run failed")
    return experiments.run_or_load("prefetch_test", {"fails": True}, compute).metrics


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("SJKO_RESULTS", str(tmp_path))  # inherited by the spawned workers
    monkeypatch.delenv("SJKO_FORCE", raising=False)
    return tmp_path


def test_prefetch_runs_every_missing_call_in_worker_processes(results):
    batch.prefetch([(_stored_pid, dict(value=i)) for i in range(4)], jobs=2)
    with report.load_only():
        stored = [_stored_pid(i) for i in range(4)]
    assert [m["value"] for m in stored] == [0, 1, 2, 3]
    assert all(m["pid"] != os.getpid() for m in stored)


def test_prefetch_starts_no_process_when_every_run_is_stored(results, monkeypatch):
    calls = [(_stored_pid, dict(value=i)) for i in range(3)]
    for fn, kw in calls:
        fn(**kw)

    def no_pool(*args, **kwargs):
        raise AssertionError("a worker pool was started for stored runs")

    monkeypatch.setattr(batch, "ProcessPoolExecutor", no_pool)
    batch.prefetch(calls, jobs=2)
    monkeypatch.setenv("SJKO_FORCE", "1")  # recomputing: every call goes to the workers
    with pytest.raises(AssertionError, match="worker pool"):
        batch.prefetch(calls, jobs=2)


def test_prefetch_with_one_process_leaves_the_work_to_the_caller(results):
    batch.prefetch([(_stored_pid, dict(value=i)) for i in range(2)], jobs=1)
    assert not (results / "prefetch_test").exists()


def test_prefetch_reports_a_failed_run(results):
    with pytest.raises(ValueError, match="this run failed"):
        batch.prefetch([(_failing_run, {}), (_stored_pid, dict(value=0))], jobs=2)


def test_processes_follow_the_batch_share(monkeypatch):
    monkeypatch.setenv("SJKO_PROCESSES", "3")
    assert batch.processes() == 3
    monkeypatch.delenv("SJKO_PROCESSES")
    assert batch.processes() == (os.cpu_count() or 1)


@pytest.mark.parametrize("names,jobs,share", [(["a"], 2, "4"), (["a", "b"], 2, "2"),
                                              (["a", "b", "c"], 8, "1")])
def test_one_notebook_gets_every_core_and_several_share_them(monkeypatch, tmp_path, names, jobs,
                                                             share):
    seen = []
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    for var in ("SJKO_PROCESSES", "OMP_NUM_THREADS"):  # unset now, restored after the test
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    monkeypatch.setattr(batch, "execute", lambda *a: seen.append(os.environ["SJKO_PROCESSES"]) or 0)
    assert batch.run_batch(names, "smoke", jobs=jobs, output_dir=tmp_path) == 0
    assert seen == [share] * len(names)


def _page_dir(tmp_path):
    """A notebook folder with one trivial page, ``page``."""
    nb_dir = tmp_path / "nbs"
    nb_dir.mkdir()
    (nb_dir / "page.py").write_text("# %%\nx = 1\n")
    return nb_dir


@pytest.mark.parametrize("trains", [True, False])
def test_a_notebook_that_trains_leaves_a_timing_record(results, tmp_path, monkeypatch, trains):
    import shutil

    import papermill

    def fake_execute(inp, out, **kw):  # the "notebook" stores one run when it trains
        if trains:
            _stored_pid(7)
        shutil.copy(inp, out)

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    monkeypatch.setenv("SJKO_PROCESSES", "2")
    _stored_pid(1)  # one run already stored
    seconds = batch.execute("page", "quick", False, _page_dir(tmp_path), tmp_path / "out")
    timing = report.batch_timing("page", "quick")
    note, glued = report.rerun_summary("page", "quick")
    if not trains:
        assert timing is None  # a page read from the cache says nothing about its cost
        assert glued["minutes"] == "not measured" and "No timed rerun" in note
        return
    assert timing["runs_before"] == 1 and timing["runs_computed"] == 1
    assert timing["processes"] == 2 and timing["profile"] == "quick"
    assert timing["wall_seconds"] == round(seconds, 1)
    assert {k: glued[k] for k in ("minutes", "processes", "runs")} == dict(
        minutes=f"{seconds / 60:.0f}", processes="2", runs="1")
    assert "found 1 already stored." in note  # not "from scratch": one run was there
    assert ", sjko.batch):" in note  # the default tool that wrote the record
    assert ", scripts/x):" in report.rerun_summary("page", "quick", "scripts/x")[0]
    assert glued["sentence"].startswith(f"took {seconds / 60:.0f} min wall computing 1 runs "
                                        "with 1 already stored on 2 single-thread processes")


def test_a_superseded_record_is_reported_as_an_earlier_configuration(results):
    batch.record_timing("page", "quick", 2400.0, 0, 150, 2)
    assert report.rerun_summary("page", "quick")[1]["sentence"].startswith(
        "took 40 min wall from an empty result root on 2 single-thread processes")
    batch.mark_superseded("page", "quick", "d = 12 now uses a larger potential batch")
    note, glued = report.rerun_summary("page", "quick")
    assert glued["minutes"] == "not measured"
    assert glued["processes"] == "–" and glued["runs"] == "–"
    assert note.startswith("Not yet timed in its current configuration")
    assert "(d = 12 now uses a larger potential batch): 40 min wall" in note
    assert "of an earlier one: 40 min)" in glued["sentence"]
    batch.record_timing("page", "quick", 1800.0, 0, 150, 2)  # the next timed rerun replaces it
    assert report.rerun_summary("page", "quick")[1]["minutes"] == "30"


def test_marking_needs_a_record_and_a_reason(results):
    with pytest.raises(FileNotFoundError, match="no timing record of 'page'"):
        batch.mark_superseded("page", "quick", "anything")
    batch.record_timing("page", "quick", 60.0, 0, 1, 2)
    with pytest.raises(ValueError, match="say what changed"):
        batch.mark_superseded("page", "quick", "  ")


def test_a_notebook_starts_after_those_it_waits_for(monkeypatch, tmp_path):
    """With two jobs, the Inception page starts only once the images page has finished (it
    scores the images page's samples), and the reproducibility listing after everything."""
    import threading
    import time

    events, lock = [], threading.Lock()

    def fake_execute(name, *args):
        with lock:
            events.append(("start", name))
        time.sleep(0.2 if name == "images" else 0.01)
        with lock:
            events.append(("end", name))
        return 0.0

    monkeypatch.setattr(batch, "execute", fake_execute)
    names = ["images", "images_inception", "toy", batch.LAST]
    assert batch.run_batch(names, "smoke", jobs=2, output_dir=tmp_path) == 0
    at = {event: i for i, event in enumerate(events)}
    assert at["start", "images_inception"] > at["end", "images"]
    assert at["start", "toy"] < at["end", "images"]  # the others do not wait
    assert at["start", batch.LAST] > max(at["end", n] for n in names[:-1])
    assert batch.waits_for("images_inception", ["images_inception"]) == set()  # alone: no wait


def test_a_load_only_rerun_leaves_no_record_when_another_process_stores_runs(results, tmp_path,
                                                                            monkeypatch):
    """Under SJKO_LOAD_ONLY the notebook trains nothing: runs that land meanwhile (another
    process's) must not be recorded as this page's cost."""
    import shutil

    import papermill

    def fake_execute(inp, out, **kw):  # another process stores a run during the execution
        with monkeypatch.context() as other_process:
            other_process.delenv("SJKO_LOAD_ONLY")
            _stored_pid(7)
        shutil.copy(inp, out)

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    monkeypatch.setenv("SJKO_LOAD_ONLY", "1")
    batch.execute("page", "quick", False, _page_dir(tmp_path), tmp_path / "out")
    assert report.batch_timing("page", "quick") is None


def test_a_rerun_that_resumed_checkpoints_says_so(results):
    batch.record_timing("page", "full", 3600.0, 4, 6, 2, resumed=1)
    note, glued = report.rerun_summary("page", "full")
    assert "1 of the computed runs resumed a training checkpoint, and their iterations before " \
           "it are not in this time." in note
    assert glued["sentence"].startswith("took 60 min wall computing 2 runs (1 resumed from a "
                                        "checkpoint) with 4 already stored on 2")
    batch.record_timing("page", "full", 3600.0, 4, 6, 2)
    assert "resumed" not in report.rerun_summary("page", "full")[0]
