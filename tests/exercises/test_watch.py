"""The graders watch what runs (issue 28): an answer that runs the library's code, however it
reaches it, scores nothing, with the rule named; outputs must be plain tensors of the input's
dtype, in eval and in training mode; nothing the answer raises escapes; each grading has a time
limit; a built module passed for its class gets a clear message."""

from __future__ import annotations

import importlib
import sys
import threading
import time
import types

import pytest
import torch
from torch import nn

from attncv.attention import registry
from attncv.attention.residual_attention import ResidualAttention
from attncv.exercises import GradeFailure, baseline, benchmark, channel, explorers, mixed, spatial
from attncv.exercises import watch as watch_
from attncv.exercises.honesty import RULE
from attncv.model import BasicBlock
from tests.exercises.test_honesty import _grade  # the same call of every grader

# grader -> (the library's class it compares with, how the grader builds it)
MODULE_GRADERS = {
    "se": (channel.check_se, registry.REGISTRY["se"].factory),
    "sk": (channel.check_sk, registry.REGISTRY["sk"].factory),
    "eca": (channel.check_eca, registry.REGISTRY["eca"].factory),
    "self_attention": (spatial.check_self_attention, registry.REGISTRY["self_attention"].factory),
    "non_local": (spatial.check_non_local, registry.REGISTRY["non_local"].factory),
    "stn": (spatial.check_stn, registry.REGISTRY["stn"].factory),
    "cbam": (mixed.check_cbam, registry.REGISTRY["cbam"].factory),
    "danet": (mixed.check_danet, registry.REGISTRY["danet"].factory),
    "ccnet": (mixed.check_ccnet, registry.REGISTRY["ccnet"].factory),
    "residual_attention": (mixed.check_residual_attention, ResidualAttention),
    "coordinate_attention": (
        mixed.check_coordinate_attention,
        registry.REGISTRY["coordinate_attention"].factory,
    ),
    "basic_block": (baseline.check_basic_block, BasicBlock),
}


def _refused(report) -> str:
    """0 points, one ✗ row that names the rule, and nothing else graded."""
    assert not report.passed, report
    with pytest.raises(GradeFailure):
        report.assert_passed()
    (check, ok, msg), *rest = [row for row in report.rows if not row[1]]
    assert "your own code" in check and RULE in msg, report
    return msg


# --- The cheats of the issue, one class each, for any library module -------------------------

CARRIER = '''
class Cheat(nn.Module):
    """Takes the library module's layers as its own, and runs the library's forward on them."""

    def __init__(self, channels, *args, **kwargs):
        nn.Module.__init__(self)
        lib = LIB
        args = (channels,) if lib.__name__ != "BasicBlock" else (channels, channels)
        source = lib(*args, **kwargs)
        self.__dict__.update({k: v for k, v in vars(source).items() if k != "training"})

    def __getattr__(self, name):  # the library's other methods (residual attention's mask)
        try:
            return nn.Module.__getattr__(self, name)
        except AttributeError:
            lib = LIB
            return getattr(lib, name).__get__(self)

    def forward(self, x):
        lib = LIB
        return lib.forward(self, x)
'''


def _carrier(lib: type, how: str) -> type:
    """The cheat class: ``how`` says how its methods reach the library's class ``lib``."""
    module, name = lib.__module__, lib.__name__
    namespace: dict[str, object] = {"__name__": __name__, "nn": nn}
    if how == "imports inside its methods":
        source = CARRIER.replace("lib = LIB", f"from {module} import {name} as lib")
    elif how == "importlib in a closure":
        source = "def make(find, where, name):\n" + _indent(
            CARRIER.replace("LIB", "getattr(find(where), name)") + "\nreturn Cheat\n"
        )
        exec(source, namespace)  # noqa: S102
        return namespace["make"](importlib.import_module, module, name)  # type: ignore[operator]
    elif how == "sys.modules in a closure":
        source = "def make(mods, where, name):\n" + _indent(
            CARRIER.replace("LIB", "getattr(mods[where], name)") + "\nreturn Cheat\n"
        )
        exec(source, namespace)  # noqa: S102
        return namespace["make"](sys.modules, module, name)  # type: ignore[operator]
    else:  # a copy of the library's forward.__code__, and its globals under the reader's name
        return _code_copy(lib, _carrier(lib, "sys.modules in a closure"))
    exec(source, namespace)  # noqa: S102
    return namespace["Cheat"]  # type: ignore[return-value]


def _code_copy(lib: type, base: type) -> type:
    globals_ = {**vars(sys.modules[lib.__module__]), "__name__": __name__}
    forward = types.FunctionType(lib.forward.__code__, globals_, "forward")
    return type("Cheat", (base,), {"forward": forward, "__module__": __name__})


def _indent(text: str) -> str:
    return "".join(f"    {line}\n" if line.strip() else "\n" for line in text.splitlines())


CHEATS = [
    "imports inside its methods",
    "importlib in a closure",
    "sys.modules in a closure",
    "a copy of forward.__code__",
]
CASES = [(grader, cheat) for grader in MODULE_GRADERS for cheat in CHEATS]


@pytest.mark.parametrize("reading", ["code read", "watch only"])
@pytest.mark.parametrize(("grader", "cheat"), CASES, ids=[f"{g}-{c}" for g, c in CASES])
def test_every_module_grader_refuses_every_way_of_running_the_library(
    grader, cheat, reading, one_thread, monkeypatch
):
    """Reading the code catches most of these; with that switched off ("watch only"), the
    watch catches every one when it runs."""
    if reading == "watch only":
        _no_reading(monkeypatch)
    check, lib = MODULE_GRADERS[grader]
    msg = _refused(_grade(check, _carrier(lib, cheat)))
    if reading == "watch only":
        assert "attncv." in msg


def _no_reading(monkeypatch) -> None:
    """Switch off what honesty reads in the code (imports, module names, copied code)."""
    from attncv.exercises import honesty

    monkeypatch.setattr(honesty.__dict__["_Look"], "code", lambda self, code, where: None)


# --- The issue's SE, with layers of its own and the library's forward -----------------------


class _OwnLayers(nn.Module):
    """SE's layers, written by the reader: only forward borrows."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.channels = channels
        self.fc1 = nn.Conv2d(channels, channels // reduction, 1)
        self.fc2 = nn.Conv2d(channels // reduction, channels, 1)
        self.tap = nn.Identity()


class ImportInForward(_OwnLayers):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from attncv.attention.se import SE

        return SE.forward(self, x)


def _closure_cheats() -> list[type]:
    find, mods = importlib.import_module, sys.modules
    where = "attncv.attention" + ".se"  # one string the code never holds whole

    class ImportlibInAClosure(_OwnLayers):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return find(where).SE.forward(self, x)

    class SysModulesInAClosure(_OwnLayers):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return mods[where].SE.forward(self, x)

    class CodeCopy(_OwnLayers):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise NotImplementedError

    from attncv.attention.se import SE

    CodeCopy.forward.__code__ = SE.forward.__code__
    CodeCopy.forward.__globals__.setdefault("check_input", lambda *a: None)
    return [ImportlibInAClosure, SysModulesInAClosure, CodeCopy]


@pytest.mark.parametrize("cheat", [ImportInForward, *_closure_cheats()], ids=lambda c: c.__name__)
def test_the_se_cheats_of_the_issue_score_nothing(cheat) -> None:
    """Each of these used to score 4/4 with check_se (its own layers, the library's forward)."""
    msg = _refused(channel.check_se(cheat, verbose=False))
    assert "SE.forward" in msg or "attncv.attention.se" in msg


def test_the_watch_alone_refuses_an_import_inside_forward(monkeypatch) -> None:
    """With the code reading switched off, running the library is still seen."""
    _no_reading(monkeypatch)
    msg = _refused(channel.check_se(ImportInForward, verbose=False))
    assert "ImportInForward runs attncv.attention.se.SE.forward" in msg


def test_residual_attention_may_not_reach_the_librarys_mask_through_the_mro() -> None:
    class ThroughTheMro(ResidualAttention):
        def mask(self, x: torch.Tensor) -> torch.Tensor:
            return self.__class__.__mro__[1].mask(self, x)

    msg = _refused(mixed.check_residual_attention(ThroughTheMro, verbose=False))
    assert "ResidualAttention.mask" in msg


def test_switching_the_watch_off_is_refused() -> None:
    class Off(_OwnLayers):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            sys.setprofile(None)
            return x * torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3), True)))))

    assert "setprofile" in _refused(channel.check_se(Off, verbose=False))


# --- The function graders ----------------------------------------------------------------


def _function_cheats() -> dict[str, tuple[object, object]]:
    find, mods = importlib.import_module, sys.modules
    train, model = "attncv." + "train", "attncv." + "model"

    def top5_import(accuracies):
        from attncv.train import best5_mean

        return best5_mean(accuracies)

    def top5_importlib(accuracies):
        return find(train).best5_mean(accuracies)

    def top5_sys_modules(accuracies):
        return mods[train].best5_mean(accuracies)

    def params_import(channels, reduction):
        from attncv.attention.se import SE

        return sum(p.numel() for p in SE(channels, reduction=reduction).parameters())

    def params_importlib(channels, reduction):
        se = find("attncv.attention" + ".se").SE(channels, reduction=reduction)
        return find(model).count_params(se)

    def params_sys_modules(channels, reduction):
        se = mods["attncv.attention" + ".se"].SE(channels, reduction=reduction)
        return sum(p.numel() for p in se.parameters())

    return {
        "imports inside": (top5_import, params_import),
        "importlib in a closure": (top5_importlib, params_importlib),
        "sys.modules in a closure": (top5_sys_modules, params_sys_modules),
    }


@pytest.mark.parametrize("cheat", list(_function_cheats()))
@pytest.mark.parametrize("grader", ["top5", "params"])
def test_the_function_graders_refuse_every_way_of_running_the_library(grader, cheat) -> None:
    top5, params = _function_cheats()[cheat]
    if grader == "top5":
        _refused(benchmark.check_top5_mean(top5, verbose=False))
    else:
        _refused(explorers.check_param_formula(params, verbose=False))


def test_an_allowed_helper_may_be_imported_inside_a_method() -> None:
    """SK's exercise hands out sk_groups: importing it inside __init__ is fine."""
    from attncv.attention.sk import SK

    class MySK(nn.Module):
        def __init__(self, channels: int) -> None:
            super().__init__()
            from attncv.attention.sk import sk_groups

            c, g, d = channels, sk_groups(channels, 32), max(channels // 16, 32)
            self.convs = nn.ModuleList(
                nn.Sequential(
                    nn.Conv2d(c, c, 3, padding=m, dilation=m, groups=g, bias=False),
                    nn.BatchNorm2d(c),
                    nn.ReLU(),
                )
                for m in (1, 2)
            )
            self.fc = nn.Sequential(nn.Linear(c, d, bias=False), nn.BatchNorm1d(d), nn.ReLU())
            self.select = nn.Linear(d, 2 * c, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            u = [b(x) for b in self.convs]
            z = self.fc((u[0] + u[1]).mean(dim=(2, 3)))
            a = torch.softmax(self.select(z).view(len(x), 2, -1), dim=1)
            return a[:, 0, :, None, None] * u[0] + a[:, 1, :, None, None] * u[1]

    assert SK is not MySK
    assert channel.check_sk(MySK, verbose=False).passed


# --- Outputs, modes, exceptions, time, instances (issue 28, item 7) -------------------------


class MySE(nn.Module):
    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, channels // reduction)
        self.fc2 = nn.Linear(channels // reduction, channels)

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))[..., None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


def _failed(report) -> tuple[str, str]:
    assert not report.passed, report
    check, _, msg = next(row for row in report.rows if not row[1])
    return check, msg


class _Agrees(torch.Tensor):
    """A tensor that claims to equal whatever it is subtracted from."""

    def __rsub__(self, other):
        return torch.zeros_like(torch.as_tensor(other))

    def __sub__(self, other):
        return torch.zeros_like(torch.as_tensor(other))


def test_a_tensor_subclass_that_fakes_subtraction_does_not_pass() -> None:
    class Fake(MySE):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (super().forward(x) * 1.5).as_subclass(_Agrees)  # wrong, and hiding it

    check, msg = _failed(channel.check_se(Fake, verbose=False))
    assert "subclass of torch.Tensor" in msg and "plain" in msg


def test_a_float64_output_does_not_pass() -> None:
    class Double(MySE):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x).double()

    check, msg = _failed(channel.check_se(Double, verbose=False))
    assert "torch.float64" in msg and "dtype" in msg


def test_changing_the_input_in_place_in_training_mode_is_caught() -> None:
    class InPlaceWhenTraining(MySE):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            gate = self.gate(x)
            if self.training:
                x.mul_(gate)
                return x
            return x * gate

    check, msg = _failed(channel.check_se(InPlaceWhenTraining, verbose=False))
    assert check == "leaves its input alone" and "training mode" in msg


def test_another_function_in_training_mode_is_caught() -> None:
    class OnlyWhenWatched(MySE):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return super().forward(x) * (1.5 if self.training else 1)

    check, msg = _failed(channel.check_se(OnlyWhenWatched, verbose=False))
    assert check == "same output as attncv's module" and "training mode" in msg


@pytest.mark.parametrize("where", ["__init__", "forward", "backward"])
@pytest.mark.parametrize("error", [SystemExit, GeneratorExit, watch_.TimeLimit])
def test_nothing_the_answer_raises_escapes(where, error) -> None:
    class Exits(MySE):
        def __init__(self, channels: int) -> None:
            super().__init__(channels)
            if where == "__init__":
                raise error("bye")

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if where == "forward":
                raise error("bye")
            out = super().forward(x)
            if where == "backward" and self.training:
                out.register_hook(lambda grad: (_ for _ in ()).throw(error("bye")))
            return out

    report = channel.check_se(Exits, verbose=False)
    assert not report.passed


def test_a_function_that_exits_is_a_cross() -> None:
    def exits(accuracies):
        raise SystemExit(0)

    check, msg = _failed(benchmark.check_top5_mean(exits, verbose=False))
    assert "SystemExit" in msg


def test_keyboard_interrupt_still_stops_the_grader() -> None:
    class Interrupted(MySE):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        channel.check_se(Interrupted, verbose=False)


class Slow(MySE):
    """A correct SE that first spins for 5 s, with no function call in its loop."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        end = time.monotonic() + 5
        while time.monotonic() < end:
            pass
        return super().forward(x)


def test_each_grading_has_a_time_limit(monkeypatch) -> None:
    monkeypatch.setattr(watch_, "TIME_LIMIT", 0.5)
    start = time.monotonic()
    check, msg = _failed(channel.check_se(Slow, verbose=False))
    assert time.monotonic() - start < 4
    assert check == "finishes in time" and "0.5 s" in msg


def test_the_time_limit_holds_outside_the_main_thread(monkeypatch) -> None:
    """No alarm signal there: the watch's hook looks at the clock on every call."""
    monkeypatch.setattr(watch_, "TIME_LIMIT", 0.5)
    reports = []
    start = time.monotonic()
    worker = threading.Thread(target=lambda: reports.append(channel.check_se(Slow, verbose=False)))
    worker.start()
    worker.join(timeout=30)
    assert time.monotonic() - start < 4
    check, msg = _failed(reports[0])
    assert check == "finishes in time"


def test_a_function_grader_has_a_time_limit(monkeypatch) -> None:
    monkeypatch.setattr(watch_, "TIME_LIMIT", 0.5)

    def forever(accuracies):
        while True:
            pass

    check, _ = _failed(benchmark.check_top5_mean(forever, verbose=False))
    assert check == "finishes in time"


def test_a_built_module_passed_for_its_class_gets_a_clear_message() -> None:
    check, msg = _failed(channel.check_se(MySE(64), verbose=False))
    assert check == "builds" and "pass the class itself, MySE" in msg
    check, msg = _failed(channel.check_eca(MySE(64), verbose=False))
    assert "pass the class itself, MySE" in msg


def test_the_honest_se_still_passes_under_the_watch() -> None:
    assert channel.check_se(MySE, verbose=False).passed
