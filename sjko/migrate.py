"""Carry stored runs across a code change that leaves them unchanged: ``python -m sjko.migrate``.

Every change to the training code changes the fingerprint in each run's hash
(:func:`sjko.experiments.code_fingerprint`), so the result cache no longer finds the stored runs.
When the change only adds an :class:`~sjko.config.SJKOConfig` field whose default keeps the old
behaviour (or a new choice of an existing field, such as a network, that no stored run uses), the
stored runs are still exactly what the new code computes for their parameters with the new field
at that default. :func:`rekey` moves each such run to the hash the current code
gives it and appends the move to its ``record.json`` under ``"rekeyed"``: the hash and
fingerprint it had, the fields added, the date, and the evidence that the default path is
unchanged (required; for example "recomputing N stored runs with the new code gave identical
metrics"). The run's own record -- git commit, fingerprint at training time, wall time -- stays
as it was, so a reader sees both what produced the numbers and why they still stand.

Runs that name another run by its hash in their parameters (the Inception FID of an image run)
are moved after it, with the hash in their parameters replaced. Records of diverged runs
(``results/failures/*.json``, written by ``sjko.report.record_failure``) are carried over the
same way.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from .config import SJKOConfig
from .experiments import code_fingerprint, config_hash, results_root


def _with_fields(obj: Any, added: dict[str, Any], old_fields: frozenset) -> Any:
    """``obj`` with the ``added`` fields put into every SJKOConfig dict it holds (a dict whose
    keys are exactly the configuration's fields before the change)."""
    if isinstance(obj, dict):
        if set(obj) == old_fields:
            new = {**obj, **added}
            SJKOConfig(**new)  # the migrated configuration must be valid
            return new
        return {k: _with_fields(v, added, old_fields) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_with_fields(v, added, old_fields) for v in obj]
    return obj


def _replace_hashes(obj: Any, moved: dict[str, str]) -> Any:
    if isinstance(obj, dict):
        return {k: _replace_hashes(v, moved) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace_hashes(v, moved) for v in obj]
    return moved.get(obj, obj) if isinstance(obj, str) else obj


def rekey(fingerprints: dict[str, tuple[str, ...]], added: dict[str, Any], evidence: str,
          root: Optional[Path] = None, dry_run: bool = False) -> dict[str, str]:
    """Move every stored run whose code fingerprint is a key of ``fingerprints`` to its hash under
    the current code, with ``added`` (new SJKOConfig fields at their default) in its parameters.

    ``fingerprints`` maps each old fingerprint to the subpackages its runs were hashed with
    (``()`` for the core, ``("images",)`` for image experiments). Returns {old hash: new hash}.
    Raises ValueError without moving anything when the evidence is empty, an added field is not a
    configuration field, or a new hash is already taken by another run.
    """
    if not evidence.strip():
        raise ValueError("rekey needs the evidence that the change leaves these runs unchanged")
    all_fields = {f.name for f in dataclasses.fields(SJKOConfig)}
    unknown = set(added) - all_fields
    if unknown:
        raise ValueError(f"not SJKOConfig fields: {sorted(unknown)}")
    old_fields = frozenset(all_fields - set(added))
    root = results_root() if root is None else Path(root)
    records = [(path.parent, json.loads(path.read_text()))
               for path in sorted(root.glob("*/*/record.json"))]
    runs = [(folder, r) for folder, r in records if r.get("code_fingerprint") in fingerprints]
    failures = [(path, json.loads(path.read_text()))
                for path in sorted((root / "failures").glob("*.json"))]
    failures = [(path, f) for path, f in failures if f.get("code_fingerprint") in fingerprints]
    moved: dict[str, str] = {}
    plan: dict[Path, tuple[str, dict]] = {}
    for _ in range(len(runs) + 1):  # until hashes named in parameters stop changing
        before = dict(moved)
        for folder, record in runs:
            params = _replace_hashes(_with_fields(record["params"], added, old_fields), moved)
            key = config_hash(record["experiment"], params,
                              fingerprints[record["code_fingerprint"]])
            moved[folder.name] = key
            plan[folder] = (key, params)
        if moved == before:
            break
    taken = {folder.name for folder, _ in records} - {folder.name for folder, _ in runs}
    clash = sorted(k for k, _ in plan.values() if k in taken)
    if clash:
        raise ValueError(f"new hashes already hold other runs: {clash}")
    if dry_run:
        return moved
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def carry(record: dict, origin: dict, **changes: Any) -> None:
        """Point a run's or a failure's record at the current code, noting the move."""
        old = record["code_fingerprint"]
        entry = {**origin, "from_fingerprint": old, "added": added, "evidence": evidence,
                 "date": date}
        record.update(changes, code_fingerprint=code_fingerprint(tuple(fingerprints[old])),
                      rekeyed=record.get("rekeyed", []) + [entry])

    for path, failure in failures:  # diverged runs (sjko.report.record_failure)
        carry(failure, {}, config=_with_fields(failure["config"], added, old_fields))
        path.write_text(json.dumps(failure, indent=1))
    for folder, record in runs:
        key, params = plan[folder]
        carry(record, {"from_hash": folder.name}, hash=key, params=params)
        (folder / "record.json").write_text(json.dumps(record, indent=1, default=str))
        os.replace(folder, folder.parent / f".{key}.rekey")
    for folder, _ in runs:
        key = plan[folder][0]
        os.replace(folder.parent / f".{key}.rekey", folder.parent / key)
    return moved


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sjko.migrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fingerprint", action="append", required=True, metavar="FP[=SUB,...]",
                        help="old code fingerprint and the subpackages its runs were hashed with")
    parser.add_argument("--add", action="append", default=[], metavar="FIELD=JSON",
                        help="new SJKOConfig field and its default, as JSON (quote strings); "
                             "none when the change adds no field")
    parser.add_argument("--evidence", required=True)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    fingerprints = {}
    for item in args.fingerprint:
        fp, _, subs = item.partition("=")
        fingerprints[fp] = tuple(s for s in subs.split(",") if s)
    added = {}
    for item in args.add:
        field, _, value = item.partition("=")
        added[field] = json.loads(value)
    moved = rekey(fingerprints, added, args.evidence, dry_run=args.dry_run)
    print(f"{'would move' if args.dry_run else 'moved'} {len(moved)} runs")


if __name__ == "__main__":
    main()
