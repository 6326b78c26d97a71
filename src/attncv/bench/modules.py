"""What each module costs inside ResNet-18, next to the baseline: parameters and MACs at the
paper's width, training and inference speed measured on this machine, and training memory.

:func:`compare_modules` is the cost table every chapter prints; :func:`bench_train` times the
baseline's training loop under a profile.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..attention import registry
from ..data import load_cifar
from ..env import default_device
from ..model import activation_memory, count_macs, count_params, resnet18
from ..train import fit, get_profile, set_seed
from ..train.speed import throughput
from ..views.tables import Table, show_table


def bench_train(profile: str, epochs: int | None, device: str | None) -> None:
    """Train the baseline under a profile on real (or substitute) data; print images/s."""
    prof = get_profile(profile, device)
    print(prof)
    data = load_cifar(**prof.data_kwargs())
    set_seed(0)
    model = resnet18(data.num_classes, width=prof.width)
    overrides = {"epochs": epochs} if epochs else {}
    result = fit(model, data, prof.train, progress="log", **overrides)
    print(
        f"\nbaseline training loop: {result.images_per_second:,.0f} images/s on {result.device}"
        f" ({'bf16' if prof.device.startswith('cuda') else 'fp32'}), {result.train_seconds:.1f}"
        f" s of training, test accuracy {result.final_acc:.1%} on {result.dataset}"
    )


def compare_modules(
    names: Sequence[str] | None = None,
    *,
    batch_size: int | None = None,
    steps: int | None = None,
    width: int | None = None,
    device: str | None = None,
    profile: str | None = None,
    show: bool = True,
) -> list[dict[str, object]]:
    """Parameters and MACs (at the paper's width 64, 100 classes) and training / inference
    throughput (at ``width``) of ResNet-18 with each module, against the baseline; shown as a
    table (HTML in a notebook) and returned as rows.

    Memory: the CUDA allocator's peak of a training step on a GPU; on a CPU, which has no such
    counter, the activations a training step keeps for its backward pass
    (:func:`attncv.activation_memory`, per image, at ``width``).

    Defaults suit the device: on a GPU batch 256, 50 steps, width 64, bf16; on a CPU batch 32,
    10 steps, width 16, fp32. The ``smoke`` profile (``$ATTNCV_PROFILE``, CI) takes seconds: it
    times 2 steps after 1 warm-up step, at batch 8 on a CPU (its numbers mean nothing).
    """
    gpu = (device or default_device()).startswith("cuda")
    smoke = get_profile(profile, "cuda" if gpu else "cpu").name == "smoke"
    batch_size = batch_size or (256 if gpu else 8 if smoke else 32)
    steps = steps or (2 if smoke else 50 if gpu else 10)
    width = width or (64 if gpu else 16)
    names = list(names or registry.names())
    for name in names:
        registry.entry(name)  # unknown names fail before any measuring
    if "none" not in names:
        names.insert(0, "none")
    rows = []
    for name in names:
        set_seed(0)
        full = resnet18(100, attention=name)  # costs at the paper's width
        narrow = resnet18(100, attention=name, width=width)
        speed = throughput(
            narrow, batch_size=batch_size, steps=steps, warmup=1 if smoke else 5, device=device
        )
        memory = speed.peak_memory_mb if gpu else activation_memory(narrow, batch_size=8)
        rows.append(
            {
                "name": name,
                "title": registry.entry(name).title,
                "params": count_params(full),
                "macs": count_macs(full),
                "train": speed.train,
                "infer": speed.infer,
                "memory_mb": memory,
                "memory": "peak MB per step" if gpu else "activations MB per image",
                "device": speed.device,
                "precision": speed.precision,
                "batch_size": batch_size,
                "width": width,
            }
        )
    base = rows[0]
    for r in rows:
        r |= {
            "params_x": r["params"] / base["params"],
            "macs_x": r["macs"] / base["macs"],
            "train_x": r["train"] / base["train"],
            "memory_x": r["memory_mb"] / base["memory_mb"],
        }
    if show:
        show_table(cost_table(rows))
    return rows


def cost_table(rows: list[dict[str, object]]) -> Table:
    """The rows of :func:`compare_modules` as a :class:`~attncv.views.tables.Table`."""
    r0 = rows[0]
    return Table(
        [
            "module",
            "params (width 64)",
            "×",
            "MACs (G, width 64)",
            "×",
            f"train img/s (width {r0['width']})",
            "×",
            "infer img/s",
            r0["memory"],
            "×",
        ],
        [
            [
                r["title"],
                f"{r['params']:,}",
                f"{r['params_x']:.3f}",
                f"{r['macs'] / 1e9:.3f}",
                f"{r['macs_x']:.3f}",
                f"{r['train']:,.0f}",
                f"{r['train_x']:.2f}",
                f"{r['infer']:,.0f}",
                f"{r['memory_mb']:,.2f}",
                f"{r['memory_x']:.2f}",
            ]
            for r in rows
        ],
        caption=(
            f"ResNet-18 with 100 classes. Parameters and MACs at the paper's width 64; "
            f"speed and memory measured on {r0['device']} at width {r0['width']}, batch "
            f"{r0['batch_size']}, {r0['precision']}; × is the ratio to the baseline."
        ),
    )


def activation_table(names: Sequence[str] | None = None, *, batch_size: int = 4) -> Table:
    """The activations a training step of ResNet-18 (full width, 100 classes) keeps for its
    backward pass, per image, with every module where the registry places it, sorted from the
    least to the most, as a :class:`~attncv.views.tables.Table` (the same on every device)."""
    names = list(names or registry.names())
    rows = []
    for name in names:
        set_seed(0)
        rows.append(
            (
                registry.entry(name).title,
                activation_memory(resnet18(100, attention=name), batch_size=batch_size),
            )
        )
    base = dict(rows).get(registry.entry("none").title, rows[0][1])
    return Table(
        ["module", "MiB per image", "× baseline"],
        [
            [title, f"{mib:.2f}", f"{mib / base:.2f}"]
            for title, mib in sorted(rows, key=lambda r: r[1])
        ],
        caption=(
            "Activations a training forward pass of ResNet-18 (width 64, 100 classes, 32x32 "
            "images) keeps for the backward pass, per image, parameters left out: "
            "attncv.activation_memory."
        ),
    )
