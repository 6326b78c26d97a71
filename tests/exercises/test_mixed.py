"""The mixed-attention graders accept the library's modules and reject realistic mistakes."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from attncv.attention.cbam import CBAM
from attncv.attention.ccnet import CCNet
from attncv.attention.coordinate_attention import CoordinateAttention
from attncv.attention.danet import DANet
from attncv.attention.residual_attention import ResidualAttention
from attncv.exercises import mixed

# Mistakes are written as subclasses of the library's modules, and the library's modules are
# graded as references: the rule against such answers is tested in test_honesty.py.
pytestmark = pytest.mark.usefixtures("library_answers")

REFERENCES = [
    (mixed.check_cbam, CBAM),
    (mixed.check_danet, DANet),
    (mixed.check_ccnet, CCNet),
    (mixed.check_residual_attention, ResidualAttention),
    (mixed.check_coordinate_attention, CoordinateAttention),
]


@pytest.mark.parametrize(("check", "cls"), REFERENCES)
def test_the_reference_passes(check, cls) -> None:
    assert check(cls, verbose=False).passed


class SpatialFirst(CBAM):  # the two gates in the wrong order
    def forward(self, x: Tensor) -> Tensor:
        x = x * self.spatial_gate(x)
        return x * self.channel_gate(x)


class SoftmaxOfEnergy(DANet):  # the paper's Eq. 3 instead of the code's max-minus-energy
    def channel(self, x: Tensor) -> Tensor:
        a = x.flatten(2)
        return ((a @ a.transpose(1, 2)).softmax(-1) @ a).view_as(x)


class SelfTwice(CCNet):  # the position counted in its row and in its column
    def forward(self, x: Tensor) -> Tensor:
        for _ in range(self.recurrence):
            q, k, v = self.query(x), self.key(x), self.value(x)
            e = torch.cat(
                [torch.einsum("nchw,ncgw->nhwg", q, k), torch.einsum("nchw,nchv->nhwv", q, k)], -1
            ).softmax(-1)
            a_col, a_row = e.split([x.shape[2], x.shape[3]], -1)
            out = torch.einsum("nhwg,ncgw->nchw", a_col, v)
            x = x + self.gamma * (out + torch.einsum("nhwv,nchv->nchw", a_row, v))
        return x


class NoSkip(ResidualAttention):  # the chapter's exercise, the mask without its skip connection
    def mask(self, x: Tensor) -> Tensor:
        sizes = []
        for block in self.down:
            sizes.append(x.shape[2:])
            x = block(torch.nn.functional.max_pool2d(x, 3, stride=2, padding=1))
        for level in reversed(range(len(self.down))):
            x = torch.nn.functional.interpolate(x, size=sizes[level], mode="bilinear")
            if level > 0:
                x = self.up[level - 1](x)
        return torch.sigmoid(self.head(x))


class MaskTimesTrunk(ResidualAttention):  # M * T: the mask can erase the trunk
    def forward(self, x: Tensor) -> Tensor:
        x = self.pre(x)
        return self.post(self.mask(x) * self.trunk(x))


class MaxPooled(CoordinateAttention):  # max instead of average pooling along each direction
    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[2:]
        pooled = torch.cat([x.amax(3, keepdim=True), x.amax(2, keepdim=True).transpose(2, 3)], 2)
        y_h, y_w = self.act(self.bn1(self.conv1(pooled))).split([h, w], dim=2)
        return x * torch.sigmoid(self.conv_h(y_h)) * torch.sigmoid(self.conv_w(y_w)).transpose(2, 3)


@pytest.mark.parametrize(
    ("check", "wrong"),
    [
        (mixed.check_cbam, SpatialFirst),
        (mixed.check_cbam, lambda c: CBAM(c, pool_types=("avg",))),
        (mixed.check_danet, SoftmaxOfEnergy),
        (mixed.check_ccnet, SelfTwice),
        (mixed.check_ccnet, lambda c: CCNet(c, recurrence=1)),
        (mixed.check_residual_attention, MaskTimesTrunk),
        (mixed.check_residual_attention, NoSkip),
        (mixed.check_coordinate_attention, MaxPooled),
    ],
)
def test_realistic_mistakes_fail(check, wrong) -> None:
    report = check(wrong, verbose=False)
    assert not report.passed


def test_danet_is_graded_away_from_its_identity_start() -> None:
    """SoftmaxOfEnergy agrees with DANet while alpha = beta = 0; the grader must still catch it."""
    report = mixed.check_danet(SoftmaxOfEnergy, verbose=False)
    failed = [check for check, ok, _ in report.rows if not ok]
    assert failed == ["same output as attncv's module"]


def test_the_report_names_the_hint(capsys) -> None:
    mixed.check_residual_attention(MaskTimesTrunk)
    assert "(1 + M) * T" in capsys.readouterr().out


def test_no_hint_when_the_outputs_agree(capsys) -> None:
    mixed.check_cbam(CBAM)
    assert "Hint" not in capsys.readouterr().out
