"""Regular expressions compiled on first use, not at import: most of the library's patterns
serve error paths and rarely used options, and each ``re.compile`` costs 0.1-0.3 ms of a cold
start."""

from __future__ import annotations

import re
from typing import Match, Optional, Pattern

__all__ = ["LazyPattern"]


class LazyPattern:
    """``re.compile(pattern, flags)``, done the first time ``search``, ``fullmatch`` or ``sub``
    runs (two threads racing to compile it both get an equal pattern)."""

    __slots__ = ("_pattern", "_flags", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: Optional[Pattern[str]] = None

    def compiled(self) -> Pattern[str]:
        """The compiled pattern."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._pattern, self._flags)
        return compiled

    def search(self, string: str) -> Optional[Match[str]]:
        """``Pattern.search``."""
        return self.compiled().search(string)

    def fullmatch(self, string: str) -> Optional[Match[str]]:
        """``Pattern.fullmatch``."""
        return self.compiled().fullmatch(string)

    def sub(self, repl: str, string: str) -> str:
        """``Pattern.sub``."""
        return self.compiled().sub(repl, string)
