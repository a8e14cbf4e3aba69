"""Independent reads run side by side (queries.db.together): same results, same errors, and
never a wait for a busy pool."""

from __future__ import annotations

import threading
import time

import pytest

from queries import db
from queries.db import QueryTimeout, together


def test_reads_run_at_once_and_come_back_in_order() -> None:
    # Each read waits for both others: only reads running at the same time can pass.
    barrier = threading.Barrier(3, timeout=10)

    def read(value: str) -> str:
        barrier.wait()
        return value

    assert together(*(lambda v=v: read(v) for v in "abc")) == ["a", "b", "c"]


def test_the_first_failure_in_order_is_raised() -> None:
    def timed_out() -> None:
        raise QueryTimeout("the database did not answer")

    def failed() -> None:
        time.sleep(0.05)
        raise ValueError("later in order")

    with pytest.raises(QueryTimeout):
        together(lambda: 1, timed_out, failed)
    with pytest.raises(ValueError, match="later in order"):
        together(lambda: 1, failed)


def test_a_busy_pool_never_makes_the_caller_wait_and_nesting_never_deadlocks() -> None:
    release = threading.Event()
    busy = [db._query_workers.submit(release.wait, 30) for _ in range(db.QUERY_WORKERS)]
    try:
        began = time.perf_counter()
        # The pool is full: the caller runs every read itself, nested ones included.
        nested = together(lambda: 1, lambda: together(lambda: 2, lambda: 3), lambda: 4)
        assert nested == [1, [2, 3], 4]
        assert time.perf_counter() - began < 10
    finally:
        release.set()
    assert all(future.result(timeout=10) for future in busy)
    # With the pool free, a read on a worker that calls together runs its parts in turn there.
    assert together(lambda: 0, lambda: together(lambda: 5, lambda: 6)) == [0, [5, 6]]
