"""The CIFAR ResNet-18 every chapter trains, with attention placed where the papers put it.

Paper: Kaiming He, Xiangyu Zhang, Shaoqing Ren, Jian Sun. *Deep Residual Learning for Image
Recognition*. CVPR 2016. https://arxiv.org/abs/1512.03385

The CIFAR variant: a 3x3 stem with stride 1 and no max-pool (32x32 inputs would otherwise shrink to
8x8 before the first stage), then BasicBlocks [2, 2, 2, 2] at widths 64-128-256-512, global average
pooling and one linear layer: 11,220,132 parameters for 100 classes.

Attention goes on the residual branch after the second BN and before the addition
(``out = relu(x + A(bn2(conv2(...))))``), as SE, CBAM and ECA place it; modules registered with
``placement="after"`` (non-local blocks) go after the block's output instead.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable

from torch import Tensor, nn

from ..attention import registry

AttentionSpec = str | Callable[[int], nn.Module] | None


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BN and a shortcut; optional attention on the residual branch.

    Shape:
        Input (N, C_in, H, W); output (N, C_out, H / stride, W / stride).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        stride: int = 1,
        attention: nn.Module | None = None,
        after: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.attention = attention if attention is not None else nn.Identity()
        self.after = after if after is not None else nn.Identity()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.bn1(self.conv1(x)))  # (N, C_out, H', W')
        out = self.attention(self.bn2(self.conv2(out)))  # attention on the residual branch
        out = self.relu(out + self.shortcut(x))
        return self.after(out)  # placement="after" modules see the block's output


class ResNet(nn.Module):
    """CIFAR ResNet: 3x3 stem, four stages of BasicBlocks, global pool, linear classifier.

    Shape:
        Input (N, 3, H, W), normally 32x32; output logits (N, num_classes).
    """

    def __init__(
        self,
        num_classes: int = 100,
        *,
        blocks: tuple[int, int, int, int] = (2, 2, 2, 2),
        width: int = 64,
        attention: AttentionSpec = "none",
        attention_stages: Iterable[int] | None = None,
        attention_kwargs: dict[str, object] | None = None,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"ResNet: num_classes must be >= 1, got {num_classes}.")
        if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width < 1:
            raise ValueError(
                f"ResNet: width must be a positive integer (64 in the paper), got {width!r}."
            )
        make, stages, placement, self.attention_name = _resolve(
            attention, attention_stages, attention_kwargs or {}
        )
        widths = [width, 2 * width, 4 * width, 8 * width]
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)
        )
        layers, in_ch = [], width
        for stage, (n_blocks, out_ch) in enumerate(zip(blocks, widths, strict=True), start=1):
            stage_blocks = []
            for i in range(n_blocks):
                module = make(out_ch) if make is not None and stage in stages else None
                stage_blocks.append(
                    BasicBlock(
                        in_ch,
                        out_ch,
                        stride=2 if (i == 0 and stage > 1) else 1,
                        attention=module if placement == "branch" else None,
                        after=module if placement == "after" else None,
                    )
                )
                in_ch = out_ch
            layers.append(nn.Sequential(*stage_blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)
        self.attention_stages = tuple(sorted(stages)) if make is not None else ()

    def features(self, x: Tensor) -> Tensor:
        """The last stage's feature map: (N, 8 * width, H / 8, W / 8)."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"ResNet expects images (N, 3, H, W); got shape {tuple(x.shape)}.")
        x = self.stem(x)  # (N, w, H, W)
        x = self.layer1(x)  # (N, w, H, W)
        x = self.layer2(x)  # (N, 2w, H/2, W/2)
        x = self.layer3(x)  # (N, 4w, H/4, W/4)
        return self.layer4(x)  # (N, 8w, H/8, W/8)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.pool(self.features(x)).flatten(1))  # (N, num_classes)


def _resolve(
    attention: AttentionSpec, stages: Iterable[int] | None, kwargs: dict[str, object]
) -> tuple[Callable[[int], nn.Module] | None, set[int], str, str]:
    """Turn ``attention=`` into (factory, stages, placement, name)."""
    if attention is None or attention == "none":
        return None, set(), "branch", "none"
    if isinstance(attention, str):
        spec = registry.entry(attention)
        default_stages, placement, name = spec.stages, spec.placement, attention

        def make(channels: int) -> nn.Module:
            return spec.factory(channels, **kwargs)

    elif callable(attention):
        if kwargs:
            raise ValueError("attention_kwargs only applies when attention= is a registry name.")
        make, default_stages, placement = attention, (1, 2, 3, 4), "branch"
        name = getattr(attention, "__name__", type(attention).__name__)
    else:
        raise ValueError(
            f"attention= takes a registry name ({', '.join(registry.REGISTRY)}), a factory "
            f"channels -> nn.Module, or None; got {attention!r}."
        )
    chosen = set(default_stages if stages is None else stages)
    if not chosen or not chosen <= {1, 2, 3, 4}:
        raise ValueError(f"attention_stages must be a non-empty subset of 1-4, got {stages!r}.")
    return make, chosen, placement, name


def resnet18(
    num_classes: int = 100,
    *,
    attention: AttentionSpec = "none",
    attention_stages: Iterable[int] | None = None,
    attention_kwargs: dict[str, object] | None = None,
    width: int = 64,
) -> ResNet:
    """CIFAR ResNet-18, optionally with an attention module in every block of the chosen stages.

    Args:
        num_classes: size of the classifier (100 for CIFAR-100).
        attention: a registry name (``"se"``, ...), a factory ``channels -> nn.Module``, or
            ``"none"``/``None`` for the plain baseline.
        attention_stages: stages 1-4 that get the module; default: the registry entry's stages
            (all four for a factory).
        attention_kwargs: keyword arguments for a registry module (``{"reduction": 8}``).
        width: channels of the first stage (64 in the paper; profiles shrink it on a CPU).
    """
    return ResNet(
        num_classes,
        width=width,
        attention=attention,
        attention_stages=attention_stages,
        attention_kwargs=attention_kwargs,
    )
