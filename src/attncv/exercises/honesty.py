"""Is the answer the reader's own code? The rule every grader applies before it compares outputs.

A grader compares the reader's answer with the library's: an answer that *is* the library's
module (imported under another name), a subclass of it, a wrapper around it, a factory that
builds it, or a function that calls the library's answer would agree with it perfectly. Such an
answer is refused, with :data:`RULE` in the message, whatever it computes.

Three looks, none relying on outputs:

- the candidate itself: its class's module and MRO (a class of ``attncv``, or a subclass of one,
  where the exercise does not ask for a subclass), the methods the reader must write (defined in
  the reader's class, not inherited from the library's);
- the code of the reader's classes and functions: every global it loads, closure and default,
  must not be a library class, function, module or instance, except the helpers a chapter hands
  out (:data:`HELPERS` and the grader's own list); a method that calls ``super().forward`` of a
  library class is refused too;
- the built module: every submodule, registered or kept in a plain attribute, and so every
  parameter, belongs to the reader's code or torch, not to a library module.

The code of the reader's functions must also not import ``attncv`` itself, name one of its
modules (``importlib.import_module("attncv...")``, ``sys.modules["attncv..."]``), or be a copy of
the library's (a ``__code__`` taken from it). What the code hides from this reading, the grader
sees when it runs (:mod:`.watch`).

This is a rule for honest mistakes and casual copying, not a sandbox: code running in the same
kernel as the grader can always change the grader.
"""

from __future__ import annotations

import dis
import functools
import inspect
import re
import sys
from collections.abc import Collection, Iterator
from types import BuiltinFunctionType, CodeType, FunctionType, MethodType, ModuleType

from torch import nn

from ..attention.checks import check_channels, check_input, reduced
from ..attention.tap import AttentionMap
from . import watch

LIBRARY = "attncv"
RULE = (
    "an answer must be your own code, not attncv's module, a subclass of it, or a wrapper around it"
)
ROW = "your own code"
# Library objects any answer may use: input checks and the attention tap are not the answer.
HELPERS: tuple[object, ...] = (check_channels, check_input, reduced, AttentionMap)


def _module_of(obj: object) -> str:
    try:
        if isinstance(obj, ModuleType):
            return obj.__name__
        if isinstance(obj, type | FunctionType | BuiltinFunctionType):
            name = getattr(obj, "__module__", "")
        else:
            name = type(obj).__module__
    except Exception:  # an object whose attributes raise: not ours to judge
        return ""
    return name if isinstance(name, str) else ""


# attncv, and the root of the fresh copy these graders may be part of (:mod:`.fresh`)
ROOTS = frozenset({LIBRARY, __name__.split(".")[0]})


def from_library(obj: object) -> bool:
    """A module, class, function or instance that comes from ``attncv`` (or a fresh copy)."""
    return _module_of(obj).split(".")[0] in ROOTS


def _place(obj: object) -> tuple[str, str] | None:
    """(module within the library, qualified name) of a library class or function: the same for
    ``attncv``'s object and a fresh copy's (:mod:`.fresh`)."""
    if not isinstance(obj, type | FunctionType):
        return None
    root, _, rest = getattr(obj, "__module__", "").partition(".")
    return (rest, obj.__qualname__) if root in ROOTS else None


def same(a: object, b: object) -> bool:
    """The same library object, in ``attncv`` or in a fresh copy of it."""
    return a is b or (_place(a) is not None and _place(a) == _place(b))


def is_a(obj: object, classes: Collection[object]) -> bool:
    """``isinstance(obj, classes)``, a fresh copy's classes counting as ``attncv``'s."""
    return any(same(t, c) for t in type(obj).__mro__ for c in classes)


def subclasses(cls: object, base: object) -> bool:
    """``issubclass(cls, base)``, a fresh copy's classes counting as ``attncv``'s."""
    return isinstance(cls, type) and any(same(t, base) for t in cls.__mro__)


def _name(obj: object) -> str:
    if isinstance(obj, ModuleType):
        return f"the module {obj.__name__}"
    if isinstance(obj, type | FunctionType):
        return f"{obj.__module__}.{obj.__qualname__}"
    return f"a {type(obj).__module__}.{type(obj).__qualname__}"


class _Look:
    """One candidate's inspection: the library objects it may use, what it must write itself."""

    def __init__(
        self,
        name: str,
        helpers: Collection[object],
        own: Collection[str],
        subclass: type | None,
    ) -> None:
        self.name = name
        self.helpers = [*HELPERS, *helpers]
        self.own = own
        self.subclass = subclass  # the library class the exercise asks to subclass, if any
        self.seen: set[int] = set()
        self.done: set[int] = set()

    def allowed(self, obj: object) -> bool:
        classes = [h for h in self.helpers if isinstance(h, type)]
        return (
            any(same(obj, h) for h in self.helpers)
            or is_a(obj, classes)
            or (self.subclass is not None and same(obj, self.subclass))
        )

    def value(self, obj: object, where: str, home: str) -> str | None:
        """A problem with one object the reader's code refers to, or None."""
        if id(obj) in self.seen:
            return None
        self.seen.add(id(obj))
        if from_library(obj) and not self.allowed(obj):
            return f"{where} uses {_name(obj)}"
        if isinstance(obj, functools.partial):
            for part in (obj.func, *obj.args, *obj.keywords.values()):
                if problem := self.value(part, where, home):
                    return problem
        if isinstance(obj, MethodType):
            return self.value(obj.__func__, where, home)
        if isinstance(obj, FunctionType) and obj.__module__ == home:
            return self.function(obj, home)
        if isinstance(obj, type) and obj.__module__ == home:
            return self.cls(obj, home)
        return None

    def function(self, fn: FunctionType, home: str) -> str | None:
        where = (
            self.name if fn.__name__ in (self.name, "<lambda>") else f"{self.name}'s {fn.__name__}"
        )
        refs = [fn.__globals__.get(n) for n in _globals(fn.__code__) if n in fn.__globals__]
        refs += [c.cell_contents for c in fn.__closure__ or () if _filled(c)]
        refs += list(fn.__defaults__ or ()) + list((fn.__kwdefaults__ or {}).values())
        if problem := self.code(fn.__code__, where):
            return problem
        for obj in refs:
            if problem := self.value(obj, where, home):
                return problem
        return None

    def code(self, code: CodeType, where: str) -> str | None:
        """The library inside a code object: its own code copied in (``__code__``), an import
        from ``attncv`` (inside a method, where it is not loaded as a global) of anything but the
        helpers, or a module of it named in a string (``importlib.import_module``,
        ``sys.modules``)."""
        if watch.is_library_code(code):
            return f"{where} runs a copy of the library's code ({watch.describe(code)})"
        ins = list(dis.get_instructions(code))
        for i, one in enumerate(ins):
            if one.opname == "IMPORT_NAME" and _MODULE_NAME.match(str(one.argval)):
                names = []
                for after in ins[i + 1 :]:  # from attncv... import a, b: IMPORT_FROM, STORE, ...
                    if after.opname == "IMPORT_FROM":
                        names.append(str(after.argval))
                    elif not after.opname.startswith("STORE"):
                        break
                module = sys.modules.get(str(one.argval))
                if not names or not all(self.allowed(getattr(module, n, None)) for n in names):
                    return f"{where} imports {one.argval} inside its code"
        for const in code.co_consts:
            if isinstance(const, str) and _MODULE_NAME.match(const):
                return f"{where} names the module {const!r} in its code"
            if isinstance(const, CodeType) and (problem := self.code(const, where)):
                return problem
        return None

    def cls(self, cls: type, home: str) -> str | None:
        for base in cls.__mro__:
            if base.__module__ != home or id(base) in self.done:
                continue
            self.done.add(id(base))
            for attr in vars(base).values():
                for fn in _functions(attr):
                    if problem := self.function(fn, home):
                        return problem
        return None


def _filled(cell: object) -> bool:
    try:
        return cell.cell_contents is not None or True  # type: ignore[attr-defined]
    except ValueError:  # an empty cell: the variable is not assigned yet
        return False


def _globals(code: CodeType) -> Iterator[str]:
    """The global names a code object (and the functions nested in it) loads."""
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(ins.argval, str):
            yield ins.argval
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _globals(const)


_MODULE_NAME = re.compile(rf"^{LIBRARY}(\.\w+)*$")


def _calls_library(fn: FunctionType, method: str) -> bool:
    """``super().<method>`` or ``<library class>.<method>`` in ``fn``: the library's method."""
    names = [
        (i.opname, i.argval) for i in dis.get_instructions(fn.__code__) if isinstance(i.argval, str)
    ]
    owners = [
        arg
        for op, arg in names
        if op == "LOAD_GLOBAL"
        and (arg == "super" or isinstance(fn.__globals__.get(arg), type))
        and (arg == "super" or from_library(fn.__globals__[arg]))
    ]
    return bool(owners) and any(
        op in ("LOAD_ATTR", "LOAD_METHOD") and arg == method for op, arg in names
    )


def _functions(attr: object) -> Iterator[FunctionType]:
    if isinstance(attr, staticmethod | classmethod):
        attr = attr.__func__
    if isinstance(attr, property):
        yield from (f for f in (attr.fget, attr.fset) if isinstance(f, FunctionType))
    elif isinstance(attr, FunctionType):
        yield attr


def _defined_by(cls: type, method: str) -> type | None:
    return next((base for base in cls.__mro__ if method in vars(base)), None)


def placeholder(candidate: object) -> bool:
    """A student copy's stub (``attncv.book.student.todo``) and nothing more: a class whose only
    base is the stub class and which defines nothing of its own, so no answer can pass as one."""
    if not isinstance(candidate, type) or len(candidate.__mro__) != 3:
        return False
    base = candidate.__mro__[1]
    plain = {"exercise", "__module__", "__doc__", "__qualname__"}
    return (
        (base.__module__, base.__qualname__) == ("attncv.book.student", "_Todo")
        and getattr(base, "attncv_placeholder", False) is True
        and set(vars(candidate)) <= plain
    )


def borrowed(
    candidate: object,
    *,
    helpers: Collection[object] = (),
    own: Collection[str] = ("__init__", "forward"),
    subclass: type | None = None,
) -> str | None:
    """What in ``candidate`` (a class, a factory or a function) is the library's answer, in
    words, or None if it is the reader's own code.

    Args:
        helpers: library objects this exercise lets the reader use (``sk_groups``).
        own: the methods a class must define itself (for a subclassing exercise: ``forward``).
        subclass: the library class the exercise asks the reader to subclass, if any.
    """
    if placeholder(candidate):
        return None  # a student copy's stub: building it says "not written yet"
    look = _Look(label(candidate), helpers, own, subclass)
    home = _home(candidate)
    if isinstance(candidate, type):
        return _class(look, candidate, home)
    if from_library(candidate) and not look.allowed(candidate):
        return f"{look.name} is {_name(candidate)} itself"
    if isinstance(candidate, functools.partial | MethodType | FunctionType):
        return look.value(candidate, look.name, home)
    if callable(candidate) and not isinstance(candidate, type):
        return _class(look, type(candidate), home)
    return None


def _class(look: _Look, cls: type, home: str) -> str | None:
    library = [b for b in cls.__mro__ if from_library(b)]
    if cls in library:
        return f"{look.name} is {_name(cls)} itself"
    if library and (look.subclass is None or not same(library[0], look.subclass)):
        return f"{look.name} subclasses {_name(library[0])}"
    for method in look.own:
        owner = _defined_by(cls, method)
        fn = getattr(cls, method, None)
        if owner is None or from_library(owner) or (fn is not None and from_library(fn)):
            return f"{look.name}.{method} is the library's, not yours: define {method} yourself"
        if library and isinstance(fn, FunctionType) and _calls_library(fn, method):
            return f"{look.name}.{method} calls the library's own {method}"
    return look.cls(cls, home)


def borrowed_parts(
    module: nn.Module,
    *,
    parts: bool = False,
    whole: Collection[type] = (),
    helpers: Collection[object] = (),
) -> str | None:
    """A library module inside the reader's built ``module`` (registered or not), in words.

    ``parts``: the exercise builds on the library's parts (residual attention's units); then only
    a module of a type in ``whole`` (the answer itself) is refused.
    """
    allowed = [*HELPERS, *helpers]
    if from_library(module):  # a factory that returns the library's module itself
        return f"the answer builds {_name(type(module))} itself"
    for where, sub in _submodules(module):
        if sub is module or not from_library(sub) or any(same(type(sub), h) for h in allowed):
            continue
        if parts and not is_a(sub, whole):
            continue
        return f"{label(module)} wraps {_name(type(sub))} ({where})"
    return None


def library_parts(module: nn.Module, *, whole: Collection[type] = ()) -> set[type]:
    """The library's module classes among ``module``'s parts (residual units), but none of
    ``whole`` (the answer itself): their code may run for a subclassing exercise."""
    return {
        type(sub)
        for _, sub in _submodules(module)
        if sub is not module
        and isinstance(sub, nn.Module)
        and from_library(type(sub))
        and not is_a(sub, whole)
    }


def _submodules(module: nn.Module) -> Iterator[tuple[str, object]]:
    """Every object one attribute away from each submodule: children, and plain attributes
    (lists, tuples and dicts of them too), which ``modules()`` does not see."""
    seen: set[int] = set()
    stack: list[tuple[str, object]] = [("self", module)]
    while stack:
        where, obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        yield where, obj
        if isinstance(obj, nn.Module):
            items = [(f"{where}.{k}", v) for k, v in vars(obj).items() if k != "_modules"]
            items += [(f"{where}.{k}", v) for k, v in obj._modules.items()]
        elif isinstance(obj, list | tuple | set):
            items = [(f"{where}[{i}]", v) for i, v in enumerate(obj)]
        elif isinstance(obj, dict) and where != "self":
            items = [(f"{where}[{k!r}]", v) for k, v in obj.items()]
        else:
            continue
        stack += [(w, v) for w, v in items if isinstance(v, nn.Module | list | tuple | dict)]


def label(candidate: object) -> str:
    for obj in (candidate, getattr(candidate, "func", None)):
        name = getattr(obj, "__name__", None)
        if isinstance(name, str):
            return name
    return type(candidate).__name__


def _home(candidate: object) -> str:
    """The module the reader's code lives in (``__main__`` in a notebook)."""
    obj = candidate.func if isinstance(candidate, functools.partial) else candidate
    try:
        return inspect.getmodule(obj).__name__ if inspect.getmodule(obj) else "__main__"
    except Exception:
        return "__main__"


def refusal(detail: str) -> str:
    """The report's message for a refused answer."""
    return f"refused: {detail}. The rule: {RULE}; this answer is not graded"
