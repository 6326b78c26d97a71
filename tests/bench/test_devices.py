"""``--devices`` and ``--address``: which devices a sweep asks for, and whether it runs on Ray."""

from __future__ import annotations

import pytest
import torch

from attncv.bench.devices import Placement, parse_devices, placement


def test_devices_are_parsed_and_checked_before_any_training() -> None:
    assert parse_devices("cpu, cpu") == ["cpu", "cpu"]
    assert parse_devices(["cpu"]) == ["cpu"]
    if not torch.cuda.is_available():
        assert parse_devices(None) == parse_devices("all") == ["cpu"]
        with pytest.raises(ValueError, match="no GPU"):
            parse_devices("cuda:0,cuda:1")
        with pytest.raises(ValueError, match="asks for 2 GPUs"):
            parse_devices("2")
    with pytest.raises(ValueError, match="at least one"):
        parse_devices("0")


def test_one_device_trains_here_more_or_a_cluster_on_ray() -> None:
    assert placement("cpu") == Placement("cpu", ("cpu",), None, 1)
    assert not placement("cpu").on_ray
    two = placement("cpu,cpu")
    assert two.on_ray and two.kind == "cpu" and two.tasks == 2
    # on a cluster the GPUs are the cluster's: none is looked for here
    assert placement(None, "auto") == Placement("cuda", (), "auto", None)
    assert placement("all", "ray://head:10001").on_ray
    assert placement("4", "auto") == Placement("cuda", (), "auto", 4)
    assert placement("cpu", "auto") == Placement("cpu", (), "auto", None)  # a CPU per run
    assert placement("cuda:0,cuda:1", "auto").tasks == 2
    with pytest.raises(ValueError, match="mixes kinds"):
        placement("cpu,cuda:0", "auto")


@pytest.mark.parametrize("devices", ["gpu", "", " , ", "cpu,,cpu", "cpu,tpu"])
def test_a_device_torch_cannot_train_on_is_a_value_error(devices) -> None:
    """``gpu`` used to escape as torch's RuntimeError (a traceback, exit 1); ``cpu,,cpu`` too."""
    with pytest.raises(ValueError, match="--devices"):
        parse_devices(devices)
    with pytest.raises(ValueError, match="--devices"):
        placement(devices, "auto")
