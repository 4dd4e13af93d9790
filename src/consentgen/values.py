"""Frozen dataclasses whose methods are written once, here.

`@frozen_value` on a subclass of FrozenValue gives a frozen dataclass: fields(), replace() and
asdict() work, and __init__, ==, hash, repr and refusing to be changed behave as a frozen
dataclass's, in the same words. A dataclass instead compiles each of those methods with exec()
for every class it decorates, which made class definitions most of a cold `consentgen build`.
"""

import inspect
import operator
from dataclasses import MISSING, FrozenInstanceError, dataclass, field, fields
from typing import Any, NamedTuple, TypeVar, dataclass_transform

T = TypeVar("T", bound=type)


class _Signature:
    """A class's `__signature__`, made when asked for (help(), an editor): its fields, as a
    dataclass's generated __init__ would take them."""

    def __get__(self, obj: object, cls: type) -> inspect.Signature:
        declared = None if obj is not None else next((b for b in cls.__mro__ if b in _INIT), None)
        if declared is None:  # an instance, or FrozenValue itself
            raise AttributeError("__signature__")
        positional = set(_INIT[declared].order)
        parameters = [inspect.Parameter(
            f.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD if f.name in positional
            else inspect.Parameter.KEYWORD_ONLY,
            default=f.default if f.default is not MISSING
            else _FACTORY if f.default_factory is not MISSING else inspect.Parameter.empty,
            annotation=f.type,
        ) for f in fields(cls)]  # type: ignore[arg-type]  # fmt: skip
        return inspect.Signature(parameters, return_annotation=None)


class _Factory:
    def __repr__(self) -> str:
        return "<factory>"  # as a dataclass's signature shows a default made by a factory


_FACTORY = _Factory()


class FrozenValue:
    """The methods of every `@frozen_value` class."""

    __slots__ = ()
    __signature__ = _Signature()

    def __init__(self, *args: Any, **values: Any) -> None:
        names, defaults, factories, post_init, order = _INIT.get(self.__class__) or _inherited(
            self.__class__
        )
        state = self.__dict__
        state.update(defaults)
        if args:
            if len(args) > len(order) or (values and not values.keys().isdisjoint(order)):
                _check_positional(self.__class__, args, values)
            state.update(zip(order, args, strict=False))
        state.update(values)
        for name, factory in factories:
            if name not in state:
                state[name] = factory()
        if state.keys() != names:  # a name that is no field, or a field without a value
            _refuse(self.__class__, state)
        if post_init:
            self.__post_init__()  # type: ignore[attr-defined]

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        compared = (_FIELDS.get(self.__class__) or _fields_of(self.__class__))[0]
        return bool(compared(self) == compared(other))

    def __hash__(self) -> int:  # memo keys hash many of these: no call more than needed
        return hash((_FIELDS.get(self.__class__) or _fields_of(self.__class__))[0](self))

    def __repr__(self) -> str:
        names = _fields_of(self.__class__)[1]
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"


class OrderedValue(FrozenValue):
    """A FrozenValue that sorts as a dataclass with order=True: by its fields, in order."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return _compare(self, other, operator.lt)

    def __le__(self, other: object) -> bool:
        return _compare(self, other, operator.le)

    def __gt__(self, other: object) -> bool:
        return _compare(self, other, operator.gt)

    def __ge__(self, other: object) -> bool:
        return _compare(self, other, operator.ge)


def _compare(one: FrozenValue, other: object, test: Any) -> Any:
    if other.__class__ is not one.__class__:
        return NotImplemented
    compared = _fields_of(one.__class__)[0]
    return test(compared(one), compared(other))


# For each class: a function giving the values that == and hash compare, as a tuple, and the
# names repr shows.
_FIELDS: dict[type, tuple[Any, tuple[str, ...]]] = {}


class _Init(NamedTuple):
    """How a class's __init__ fills an instance."""

    names: frozenset[str]  # every field
    defaults: dict[str, Any]
    factories: tuple[tuple[str, Any], ...]  # (field, default factory)
    post_init: bool  # the class has a __post_init__
    order: tuple[str, ...]  # the fields that may be given by position, in order


_INIT: dict[type, _Init] = {}


def _inherited(cls: type) -> _Init:
    """A subclass declared without @frozen_value builds as its nearest declared base does, as a
    dataclass's subclass inherits its __init__."""
    base = next((b for b in cls.__mro__ if b in _INIT), None)
    if base is None:
        raise TypeError(f"{cls.__qualname__}: declare it with @frozen_value")
    _INIT[cls] = _INIT[base]
    return _INIT[cls]


def _fields_of(cls: type) -> tuple[Any, tuple[str, ...]]:
    known = _FIELDS.get(cls)
    if known is None:
        compared = tuple(f.name for f in fields(cls) if f.compare)  # type: ignore[arg-type]
        if len(compared) == 1:  # attrgetter of one name gives the value, not a tuple
            values = lambda obj: (getattr(obj, compared[0]),)  # noqa: E731
        elif not compared:
            values = lambda obj: ()  # noqa: E731
        else:
            values = operator.attrgetter(*compared)
        shown = tuple(f.name for f in fields(cls) if f.repr)  # type: ignore[arg-type]
        known = _FIELDS[cls] = (values, shown)
    return known


def _check_positional(cls: type, args: tuple[Any, ...], values: dict[str, Any]) -> None:
    """The TypeError a dataclass's __init__ raises for too many positional arguments, or for one
    given by keyword too; nothing when they are fine."""
    init = _INIT[cls]  # (__init__ looked it up)
    order = init.order
    if len(args) > len(order):
        defaults = init.defaults.keys() | {name for name, _ in init.factories}
        most, least = len(order) + 1, len([n for n in order if n not in defaults]) + 1
        takes = f"from {least} to {most}" if least < most else str(most)
        plural = "s" if most > 1 else ""
        raise TypeError(f"{cls.__qualname__}.__init__() takes {takes} positional argument{plural} "
                        f"but {len(args) + 1} were given")  # fmt: skip
    twice = [name for name in order[: len(args)] if name in values]
    if twice:
        raise TypeError(f"{cls.__qualname__}.__init__() got multiple values for argument "
                        f"{twice[0]!r}")  # fmt: skip


def _refuse(cls: type, given: dict[str, Any]) -> None:
    """The TypeError a dataclass's __init__ raises for a name that is no field, or for fields
    left without a value (`given`: every value the instance got, defaults included)."""
    unknown = [name for name in given if name not in _INIT[cls].names]
    if unknown:
        raise TypeError(f"{cls.__qualname__}.__init__() got an unexpected keyword argument "
                        f"{unknown[0]!r}")  # fmt: skip
    missing = [repr(f.name) for f in fields(cls) if f.name not in given]  # type: ignore[arg-type]
    listed = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + (
        "," if len(missing) > 2 else "") + f" and {missing[-1]}"  # fmt: skip
    plural = "s" if len(missing) > 1 else ""
    kind = "positional " if _INIT[cls].order else "keyword-only "
    raise TypeError(f"{cls.__qualname__}.__init__() missing {len(missing)} required {kind}"
                    f"argument{plural}: {listed}")  # fmt: skip


@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
def frozen_value(cls: T | None = None, /, *, kw_only: bool = True) -> Any:
    """Make `cls`, a subclass of FrozenValue (or OrderedValue), a frozen dataclass whose methods
    are FrozenValue's. Its fields are keyword-only unless `kw_only=False`."""
    if cls is None:
        return lambda cls: frozen_value(cls, kw_only=kw_only)
    if not issubclass(cls, FrozenValue):
        raise TypeError(f"{cls.__name__}: a frozen_value subclasses FrozenValue")
    if cls.__doc__ is None:  # the dataclass would read the signature to write one: not needed
        cls.__doc__ = f"{cls.__name__}(...)"
    dataclass(init=False, eq=False, repr=False, kw_only=kw_only)(cls)
    declared = fields(cls)  # type: ignore[arg-type]
    if not all(f.init for f in declared):
        raise TypeError(f"{cls.__name__}: every field of a frozen_value is set by __init__")
    _INIT[cls] = _Init(
        names=frozenset(f.name for f in declared),
        defaults={f.name: f.default for f in declared if f.default is not MISSING},
        factories=tuple(
            (f.name, f.default_factory) for f in declared if f.default_factory is not MISSING
        ),
        post_init=hasattr(cls, "__post_init__"),
        order=() if kw_only else tuple(f.name for f in declared if not f.kw_only),
    )
    return cls
