"""``repr()`` of anything the library hands out never raises.

A ``repr`` that raises hides the error being reported: ``traceback.TracebackException(...,
capture_locals=True)`` (Sentry, rich, ``pytest --showlocals``) calls ``repr`` on every local, and
on CPython 3.8 to 3.10 one failing ``repr`` aborts the whole report. An object whose
``__init__`` refused an argument is such a local (``self`` in the frame that raised), half built.
"""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

__all__ = ["safe_repr"]

_T = TypeVar("_T")


def safe_repr(method: Callable[[_T], str]) -> Callable[[_T], str]:
    """Decorate a ``__repr__`` so that any failure (a missing attribute, a nesting too deep)
    gives ``<ClassName (incomplete)>`` instead of an exception."""

    @functools.wraps(method)
    def __repr__(self: _T) -> str:
        try:
            return method(self)
        except Exception:  # noqa: BLE001 - a repr must not raise, whatever the state
            return "<%s (incomplete)>" % type(self).__qualname__

    return __repr__
