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
    devs = named(devices)
    for d in devs:
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
    devs = named(devices)
    kinds = {torch.device(d).type for d in devs}
    if len(kinds) > 1:
        raise ValueError(f"--devices {','.join(devs)} mixes kinds; one kind per sweep.")
    return Placement(kinds.pop(), (), address, len(devs) if len(devs) > 1 else None)


KINDS = ("cpu", "cuda")  # what a sweep trains on


def named(devices: Sequence[str] | str) -> list[str]:
    """``"cuda:0,cuda:1"`` (or a list) as a list of device names, each one torch reads as a CPU
    or a CUDA device; an empty name, or one like ``gpu``, is a ``ValueError`` that says what to
    write instead."""
    given = devices if isinstance(devices, str) else ",".join(str(d) for d in devices)
    devs = [d.strip() for d in given.split(",")]
    hint = "write cuda:0,cuda:1, all, a count of GPUs, or cpu,cpu"
    if not any(devs):
        raise ValueError(f"--devices {given!r} names no device; {hint}.")
    for d in devs:
        if not d:
            raise ValueError(f"--devices {given!r} has an empty entry; {hint}.")
        try:
            kind = torch.device(d).type
        except (RuntimeError, ValueError):
            kind = None
        if kind not in KINDS:
            raise ValueError(f"--devices {given!r}: {d!r} is not a CPU or CUDA device; {hint}.")
    return devs
