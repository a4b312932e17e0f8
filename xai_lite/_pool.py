"""The keep-alive pool: idle connections by origin, safe across threads and across ``os.fork()``.

After a fork (gunicorn ``--preload``, multiprocessing's fork start method) parent and child hold
the same sockets: if both used one, each could read the other's answer. So a pool belongs to
one process. An ``os.register_at_fork`` hook gives every pool in the child a fresh lock (a
parent thread may have held the old one at the fork) and drops the parent's idle connections;
a pid check on every checkout covers a child whose hook did not run; and a connection checked
out before the fork is closed, not pooled, when its response ends in the child. Closing a
socket object closes only this process's descriptor (no shutdown), so the parent's
connections live on.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from ._transport import _Connection

__all__ = ["Pool"]

_MAX_IDLE_PER_ORIGIN = 32  # idle keep-alive connections kept per origin; more are closed

_Key = Tuple[str, str, int]


class Pool:
    """Idle keep-alive connections by origin key. Thread-safe: one lock guards the lists, and a
    connection checked out serves one request at a time. ``pid`` is the process that owns them."""

    def __init__(self) -> None:
        self._idle: Dict[_Key, List[_Connection]] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.pid = os.getpid()
        _POOLS.add(self)

    def checkout(self, key: _Key) -> Optional[_Connection]:
        """An idle connection to ``key`` that the server has not closed, or None."""
        if self.pid != os.getpid():  # a forked child whose at-fork hook did not run
            self.forget()
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                conn = idle.pop()
            tsock = conn.tsock
            if tsock is not None and conn.sock is not None and not tsock.is_dropped():
                return conn
            conn.close()

    def checkin(self, conn: _Connection, finished: bool, pid: int) -> None:
        """Keep ``conn`` for reuse if its response was read to the end (``finished``) in the
        process that checked it out (``pid``); else close it."""
        if conn.sock is None or not finished or self._closed or pid != self.pid:
            conn.close()
            return
        with self._lock:
            idle = self._idle.setdefault(conn.origin.key, [])
            if len(idle) < _MAX_IDLE_PER_ORIGIN:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close every idle connection; connections checked out close when their response ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        _close_all(idle)

    def forget(self) -> None:
        """In a forked child: take a fresh lock and drop the parent's idle connections."""
        self._lock = threading.Lock()
        self.pid = os.getpid()
        idle, self._idle = self._idle, {}
        _close_all(idle)

    def __del__(self) -> None:
        # A client dropped without close(): close its idle sockets rather than leave them to
        # the garbage collector (which would warn about each).
        _close_all(getattr(self, "_idle", {}))


def _close_all(idle: Dict[_Key, List[_Connection]]) -> None:
    for conns in idle.values():
        for conn in conns:
            conn.close()


_POOLS: weakref.WeakSet[Pool] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for pool in list(_POOLS):
        pool.forget()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_after_fork_in_child)
