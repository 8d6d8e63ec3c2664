"""Pausing Python's cyclic garbage collector for one burst of short-lived objects.

A push of 1,000 mutations builds some 25,000 dicts, lists and UUIDs that reference counting
frees as soon as the push ends; meanwhile they trip the cyclic collector ~25 times, and now
and then a full collection: ~3–6 ms of a ~55 ms push (bench/bench_push_phases.py counts it).
The pause is process-wide; under threaded workers two requests may overlap, so only the one
that found the collector on turns it back on (it is never left off), and what the paused
stretch left in cycles is collected by the next automatic collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (reference counting still frees).

    >>> with cyclic_gc_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
