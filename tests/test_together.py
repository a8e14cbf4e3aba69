"""Independent reads run side by side (queries.db.together): same results, same errors, and
never a wait for a busy pool."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from queries import db
from queries.db import QueryTimeout, together


@pytest.fixture
def one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Side by side reads turned on (off by default), with the pool's one thread."""
    monkeypatch.setattr(db, "QUERY_WORKERS", 1)


def test_reads_run_at_once_and_come_back_in_order(one_worker: None) -> None:
    # Each read waits for all the others that can run at once (the caller and every worker):
    # only reads running at the same time can pass.
    at_once = db.QUERY_WORKERS + 1
    barrier = threading.Barrier(at_once, timeout=10)

    def read(value: int) -> int:
        barrier.wait()
        return value

    assert together(*(lambda v=v: read(v) for v in range(at_once))) == list(range(at_once))
    assert together(*(lambda v=v: v for v in "abcde")) == list("abcde")


def test_the_first_failure_in_order_is_raised(one_worker: None) -> None:
    def timed_out() -> None:
        raise QueryTimeout("the database did not answer")

    def failed() -> None:
        time.sleep(0.05)
        raise ValueError("later in order")

    with pytest.raises(QueryTimeout):
        together(lambda: 1, timed_out, failed)
    with pytest.raises(ValueError, match="later in order"):
        together(lambda: 1, failed)


def test_a_busy_pool_never_makes_the_caller_wait_and_nesting_never_deadlocks(
    one_worker: None,
) -> None:
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


def test_no_workers_means_one_read_after_another_on_the_callers_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(db, "QUERY_WORKERS", 0)  # the default
    threads = together(*(threading.get_ident for _ in range(3)))
    assert threads == [threading.get_ident()] * 3


def test_the_number_of_workers_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(db.QUERY_WORKERS_ENV_VAR, raising=False)
    assert db._query_workers_wanted() == 0
    monkeypatch.setenv(db.QUERY_WORKERS_ENV_VAR, "3")
    assert db._query_workers_wanted() == 3
    monkeypatch.setenv(db.QUERY_WORKERS_ENV_VAR, "0")
    assert db._query_workers_wanted() == 0
    monkeypatch.setenv(db.QUERY_WORKERS_ENV_VAR, "two\nINFO forged")
    with caplog.at_level(logging.WARNING, logger="queries.db"):
        assert db._query_workers_wanted() == 0
    assert "'two\\nINFO forged'" in caplog.text
