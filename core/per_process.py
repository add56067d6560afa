"""`PerProcess`: one lazily built instance per process, for objects that own threads or sockets.

A Celery prefork child inherits its parent's memory but not its threads: an event loop, a
recorder thread or a connection pool copied across `fork()` looks alive and never runs. The
child forgets what it inherited and builds its own on first use.
"""

import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerProcess(Generic[T]):
    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._forget()
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._instance: T | None = None
        self._lock = threading.Lock()  # a lock held by a parent's thread at fork would never be released

    def get(self) -> T:
        """This process's instance, built on first use."""
        if self._instance is None:
            with self._lock:
                if self._instance is None:
                    self._instance = self._factory()
        return self._instance

    def current(self) -> T | None:
        """This process's instance if it was built, else None (shutdown hooks: nothing to stop)."""
        return self._instance
