"""What ``--resume`` may keep: a saved sweep checked as a whole, and its data against the data a
device loaded (the command line's side of both: test_arguments.py, test_cluster.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attncv.bench.cluster import Refused
from attncv.bench.resume import check_data_folder, check_resume, check_saved, same_data

RESULTS = Path(__file__).resolve().parents[2] / "chapters" / "results"


def test_the_committed_sweeps_are_whole() -> None:
    for path in sorted(RESULTS.glob("benchmark-*.json")):
        check_saved(json.loads(path.read_text()) | {"failed": []}, path)


def test_a_part_of_the_wrong_kind_is_named() -> None:
    run = {"name": "se", "title": "SE", "family": "channel", "seed": 0, "dataset": "d"}
    run |= {"device": "CPU", "best5_acc": 0.5, "final_acc": 0.5, "test_acc": [0.5]}
    run |= {"params": 1, "train_ips": 1.0}
    whole = {"recipe": {"train": {}}, "scale": {}, "data": "d", "environment": {}}
    whole |= {"runs": [run], "failed": []}
    check_saved(whole, "ok.json")
    for broken, says in (
        ({"runs": [run | {"seed": True}]}, r"runs\[0\]\.seed"),  # a bool is not a seed
        ({"runs": [run | {"test_acc": ["x"]}]}, r"runs\[0\]\.test_acc"),
        ({"runs": [run, run]}, "repeats se seed 0"),
        ({"data": None}, "data"),
    ):
        with pytest.raises(ValueError, match=says):
            check_saved(whole | broken, "bad.json")


def test_other_data_are_refused_and_the_same_data_pass() -> None:
    same_data(None, "anything", "o.json")  # nothing kept: nothing to compare
    same_data("CIFAR-100", "CIFAR-100", "o.json")
    with pytest.raises(Refused, match="other data"):
        same_data("CIFAR-100", "CIFAR-10", "o.json")


def test_resume_needs_out_and_a_data_folder_must_be_one(tmp_path) -> None:
    check_resume(False, None)
    with pytest.raises(ValueError, match="--out"):
        check_resume(True, None)
    check_data_folder(str(tmp_path), None)
    with pytest.raises(ValueError, match="--data-dir"):
        check_data_folder(str(tmp_path / "missing"), "auto")
    check_data_folder(str(tmp_path / "missing"), "ray://head:10001")  # the cluster's folder
