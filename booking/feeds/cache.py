"""Rendered feed bodies kept per ETag, in each process, least recently used out first.

Many calendar apps (Google among them) poll without ``If-None-Match`` and so get the whole body
every time. The ETag covers every input of the text (the rows' aggregates, the scopes'
watermark, the window, the settings that shape it and ``FORMAT_VERSION``), so a body stored
under it can be sent again without rendering as long as the validators still produce that ETag.
``FEED_CACHE_BYTES`` bounds the memory per process (0 turns the cache off). Each app has its
own store, so two apps in one process (tests) never serve each other's bodies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app

_KEY = "feed_bodies"


class BodyCache:
    def __init__(self) -> None:
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, etag: str) -> bytes | None:
        with self._lock:
            body = self._bodies.get(etag)
            if body is not None:
                self._bodies.move_to_end(etag)
            return body

    def put(self, etag: str, body: bytes, limit: int) -> None:
        with self._lock:
            previous = self._bodies.pop(etag, None)
            if previous is not None:
                self._size -= len(previous)
            if len(body) > limit:
                return  # would evict everything else and still not fit
            self._bodies[etag] = body
            self._size += len(body)
            while self._size > limit:
                _, evicted = self._bodies.popitem(last=False)
                self._size -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._size = 0


def _store() -> BodyCache:
    store = current_app.extensions.get(_KEY)
    if store is None:
        store = current_app.extensions.setdefault(_KEY, BodyCache())
    return store


def _limit() -> int:
    return current_app.config.get("FEED_CACHE_BYTES", 0)


def get(etag: str) -> bytes | None:
    """The body rendered for this ETag, if this process still has it."""
    if _limit() <= 0:
        return None
    return _store().get(etag)


def put(etag: str, body: bytes) -> None:
    limit = _limit()
    if limit > 0:
        _store().put(etag, body, limit)


def clear() -> None:
    """Forget every body of the current app (the benchmark's cold figure starts from here)."""
    _store().clear()
