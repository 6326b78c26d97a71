"""Where a sweep's runs go: ``--devices`` and ``--address`` as a :class:`Placement`.

``--devices``: ``None`` is the first GPU, or the CPU where there is none; ``"all"`` every GPU
here; a count (``4`` or ``"4"``) that many GPUs; ``"cuda:0,cuda:2"`` or ``"cpu,cpu"`` exactly
those. One device trains in this process; more than one, or a Ray cluster (``--address auto``),
trains on Ray (:mod:`.cluster`), one run per device at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..env import default_device


def parse_devices(devices: Sequence[str] | str | int | None) -> list[str]:
    """``None`` -> the first GPU or the CPU; ``"all"`` -> every GPU; ``"3"`` -> three GPUs;
    ``"a,b"`` -> ``[a, b]``. A misspelt device, or a GPU this machine lacks, is a ``ValueError``."""
    if devices is None:
        return ["cuda:0" if default_device() == "cuda" else "cpu"]
    if devices == "all":
        n = torch.cuda.device_count()
        return [f"cuda:{i}" for i in range(n)] if n else ["cpu"]
    if isinstance(devices, int) or (isinstance(devices, str) and devices.strip().isdigit()):
        n = int(devices)
        if n < 1:
            raise ValueError(f"--devices {n}: ask for at least one GPU.")
        if n > torch.cuda.device_count():
            raise ValueError(
                f"--devices {n} asks for {n} GPUs, but torch sees {torch.cuda.device_count()} here."
            )
        return [f"cuda:{i}" for i in range(n)]
    devs = [d.strip() for d in (devices.split(",") if isinstance(devices, str) else devices)]
    for d in devs:
        torch.device(d)  # a clear error for a misspelt device
        if d.startswith("cuda") and not torch.cuda.is_available():
            raise ValueError(f"Device {d!r} asked for, but torch sees no GPU here.")
    return devs


@dataclass(frozen=True)
class Placement:
    """Where a sweep's runs go: ``kind`` is what each run trains on (``"cuda"`` or ``"cpu"``),
    ``devices`` this machine's devices (none when joining a cluster), ``address`` the Ray cluster
    to join, ``tasks`` the most runs at once (``None``: as many as the cluster holds)."""

    kind: str
    devices: tuple[str, ...] = ()
    address: str | None = None
    tasks: int | None = None

    @property
    def on_ray(self) -> bool:
        """More than one device, or a cluster: the runs are Ray tasks, not this process's."""
        return self.address is not None or len(self.devices) > 1


def placement(devices: Sequence[str] | str | int | None, address: str | None = None) -> Placement:
    """``--devices`` and ``--address`` as a :class:`Placement`.

    Without ``address`` the devices are this machine's (:func:`parse_devices`). With one (``auto``
    or ``ray://host:port``), ``devices`` says only the kind and how many at once: ``None`` or
    ``"all"`` (or ``"cuda"``), a GPU per run, as many at once as the cluster has; a count, that
    many at once; ``"cpu"``, a CPU per run; ``"cpu,cpu"``, two CPU runs at once. The GPUs are the
    cluster's, so none is looked for here.
    """
    if address is None:
        devs = parse_devices(devices)
        kinds = {torch.device(d).type for d in devs}
        if len(kinds) > 1:
            raise ValueError(f"--devices {','.join(devs)} mixes kinds; one kind per sweep.")
        return Placement(kinds.pop(), tuple(devs), None, len(devs))
    if devices is None or devices == "all":
        return Placement("cuda", (), address, None)
    if isinstance(devices, int) or (isinstance(devices, str) and devices.strip().isdigit()):
        return Placement("cuda", (), address, max(1, int(devices)))
    devs = [d.strip() for d in (devices.split(",") if isinstance(devices, str) else devices)]
    kinds = {torch.device(d).type for d in devs}
    if len(kinds) > 1:
        raise ValueError(f"--devices {','.join(devs)} mixes kinds; one kind per sweep.")
    return Placement(kinds.pop(), (), address, len(devs) if len(devs) > 1 else None)
