"""Records: dataclass-like classes that cost nothing extra at import time.

``@record`` reads a class's annotated fields into a class-level table (``_RECORD_FIELDS``) and
gives it the one generic ``__init__`` of :class:`Record` instead of generating methods with
``exec()`` the way ``dataclasses`` does; so a process that imports the result types, builds a
client and makes a call never imports ``dataclasses`` (nor the ``inspect``, ``ast`` and
``tokenize`` it pulls in). Type checkers see ``record`` and ``field`` as ``dataclasses.dataclass``
and ``dataclasses.field``, and at runtime a record still is a dataclass to the stdlib:
``__dataclass_fields__`` and ``__dataclass_params__`` are built on first access, by running
``dataclasses.dataclass`` over a shadow class with the same fields, so ``dataclasses.fields()``,
``asdict()``, ``replace()`` and ``is_dataclass()`` work on records and their instances.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple

__all__ = ["Record", "field", "field_names", "record"]

_MISSING: Any = object()
_SHADOW = "_record_shadow"  # in a record class's own __dict__: (fields, params), once built


class _Factory:
    """What ``field(default_factory=...)`` leaves in the class body until ``@record`` reads it."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make


class _LazyDataclassAttribute:
    """``__dataclass_fields__`` (index 0) or ``__dataclass_params__`` (index 1) of a record
    class, made on first access; an AttributeError for classes that are not records."""

    def __init__(self, index: int) -> None:
        self.index = index

    def __get__(self, obj: object, owner: type) -> Any:
        if getattr(owner, "_RECORD_FIELDS", None) is None:
            raise AttributeError("__dataclass_fields__")
        shadow = owner.__dict__.get(_SHADOW)
        if shadow is None:
            shadow = _shadow(owner)
            type.__setattr__(owner, _SHADOW, shadow)
        return shadow[self.index]


def _shadow(owner: type) -> Tuple[Any, Any]:
    import dataclasses

    repr_, eq, frozen = owner._RECORD_OPTIONS  # type: ignore[attr-defined]
    namespace: Dict[str, Any] = {"__annotations__": {}, "__module__": owner.__module__, "__qualname__": owner.__qualname__}
    for name, default, factory, annotation in owner._RECORD_FIELDS:  # type: ignore[attr-defined]
        namespace["__annotations__"][name] = annotation
        if factory is not None:
            namespace[name] = dataclasses.field(default_factory=factory)
        elif default is not _MISSING:
            namespace[name] = default
    shadow: Any = dataclasses.dataclass(repr=repr_, eq=eq, frozen=frozen)(type(owner.__name__, (), namespace))
    return shadow.__dataclass_fields__, shadow.__dataclass_params__


def field_names(cls: type) -> Tuple[str, ...]:
    """The field names of a record class, or of a real dataclass (in field order)."""
    table = cls.__dict__.get("_RECORD_FIELDS")
    if table is not None:
        return tuple(entry[0] for entry in table)
    import dataclasses

    return tuple(f.name for f in dataclasses.fields(cls))


class Record:
    """Base of every record class: the generic ``__init__``, and the lazy dataclass metadata."""

    _RECORD_FIELDS: Optional[Tuple[Tuple[str, Any, Optional[Callable[[], Any]], str], ...]] = None
    _RECORD_DEFAULTS: Optional[Dict[str, Any]] = None  # name -> default, in field order; None if one is required
    _RECORD_FACTORIES: Tuple[Tuple[str, Callable[[], Any]], ...] = ()

    if not TYPE_CHECKING:
        __dataclass_fields__ = _LazyDataclassAttribute(0)
        __dataclass_params__ = _LazyDataclassAttribute(1)

        def __init__(self, *args, **kwargs):
            cls = type(self)
            defaults = cls._RECORD_DEFAULTS
            if defaults is not None and not args:  # every field has a default: the fast way
                values = self.__dict__
                values.update(defaults)  # in field order; a factory's field gets its value below
                if kwargs:
                    for name in kwargs:
                        if name not in defaults:
                            raise TypeError("%s.__init__() got an unexpected keyword argument %r" % (cls.__qualname__, name))
                    values.update(kwargs)
                for name, factory in cls._RECORD_FACTORIES:
                    if name not in kwargs:
                        values[name] = factory()
            else:
                self._record_init(args, kwargs)
            post_init = getattr(self, "__post_init__", None)
            if post_init is not None:
                post_init()

        def _record_init(self, args, kwargs):
            table = type(self)._RECORD_FIELDS
            if table is None:
                raise TypeError("%s is not a record class" % type(self).__qualname__)
            if len(args) > len(table):
                raise TypeError("%s.__init__() takes %d positional arguments but %d were given"
                                % (type(self).__qualname__, len(table) + 1, len(args) + 1))
            used = 0
            values = {}
            for i, (name, default, factory, _) in enumerate(table):
                if i < len(args):
                    if name in kwargs:
                        raise TypeError("%s.__init__() got multiple values for argument %r" % (type(self).__qualname__, name))
                    values[name] = args[i]
                elif name in kwargs:
                    values[name] = kwargs[name]
                    used += 1
                elif factory is not None:
                    values[name] = factory()
                elif default is not _MISSING:
                    values[name] = default
                else:
                    _refuse_unknown(self, kwargs, table)
                    raise TypeError("%s.__init__() missing 1 required positional argument: %r" % (type(self).__qualname__, name))
            if used < len(kwargs):
                _refuse_unknown(self, kwargs, table)
            self.__dict__.update(values)


if TYPE_CHECKING:
    from dataclasses import dataclass as record
    from dataclasses import field
else:

    def field(*, default_factory):
        """A field whose default is made by ``default_factory()`` for each instance."""
        return _Factory(default_factory)

    def record(cls=None, *, repr=True, eq=True, frozen=False):  # noqa: A002 - dataclass's names
        """Make ``cls`` (a :class:`Record` subclass) a record: ``@dataclass`` without ``exec()``."""
        if cls is None:
            return lambda cls: record(cls, repr=repr, eq=eq, frozen=frozen)
        fields = {}
        for base in reversed(cls.__mro__[1:]):
            for entry in base.__dict__.get("_RECORD_FIELDS") or ():
                fields[entry[0]] = entry
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            value = cls.__dict__.get(name, _MISSING)
            if isinstance(value, _Factory):
                delattr(cls, name)
                fields[name] = (name, _MISSING, value.make, annotation)
            else:
                fields[name] = (name, value, None, annotation)
        cls._RECORD_FIELDS = tuple(fields.values())
        required = any(default is _MISSING and factory is None for _, default, factory, _ in fields.values())
        cls._RECORD_DEFAULTS = None if required else {name: default for name, default, _, _ in fields.values()}
        cls._RECORD_FACTORIES = tuple((name, factory) for name, _, factory, _ in fields.values() if factory is not None)
        cls._RECORD_OPTIONS = (repr, eq, frozen)
        if sys.version_info >= (3, 10):
            cls.__match_args__ = tuple(fields)
        if "__init__" in cls.__dict__:
            raise TypeError("a record class gets its __init__ from Record")
        if repr and "__repr__" not in cls.__dict__:
            cls.__repr__ = _repr
        if eq and "__eq__" not in cls.__dict__:
            cls.__eq__ = _eq
            cls.__hash__ = _hash if frozen else None
        if frozen:
            cls.__setattr__ = _refuse_set
            cls.__delattr__ = _refuse_delete
        return cls

    def _refuse_unknown(self, kwargs, table):
        names = {entry[0] for entry in table}
        for name in kwargs:
            if name not in names:
                raise TypeError("%s.__init__() got an unexpected keyword argument %r" % (type(self).__qualname__, name))

    def _values(self):
        return tuple(self.__dict__[entry[0]] for entry in type(self)._RECORD_FIELDS)

    def _repr(self):
        pairs = ("%s=%r" % (entry[0], self.__dict__[entry[0]]) for entry in type(self)._RECORD_FIELDS)
        return "%s(%s)" % (type(self).__qualname__, ", ".join(pairs))

    def _eq(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _values(self) == _values(other)

    def _hash(self):
        return hash(_values(self))

    def _frozen(message):
        import dataclasses

        return dataclasses.FrozenInstanceError(message)

    def _refuse_set(self, name, value):
        raise _frozen("cannot assign to field %r" % name)

    def _refuse_delete(self, name):
        raise _frozen("cannot delete field %r" % name)
