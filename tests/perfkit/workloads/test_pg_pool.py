"""One round of the pool workloads, with stand-ins for the pool: no server needed."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from perfkit.workloads.pg_pool import pool_round


class Timeout(Exception):
    pass


def test_a_holder_that_times_out_taking_its_connection_tries_again() -> None:
    ids = itertools.count()
    lock = threading.Lock()
    slow = [True]  # the first holder meets a pool still opening its connections

    def hold(held: threading.Barrier, release: threading.Event) -> int:
        with lock:
            late, slow[0] = slow[0], False
        if late:
            raise Timeout
        held.wait(timeout=10)
        release.wait(timeout=10)
        return next(ids)

    def exhausted() -> None:
        raise Timeout

    with ThreadPoolExecutor(4) as threads:
        found = pool_round(2, hold, exhausted, Timeout, lambda: next(ids), threads)
    assert (found.completed, found.timeouts, found.holding_retries) == (6, 1, 1)


def test_a_holder_that_fails_otherwise_fails_the_round() -> None:
    def hold(held: threading.Barrier, release: threading.Event) -> int:
        raise RuntimeError("no connection at all")

    with ThreadPoolExecutor(4) as threads, pytest.raises(AssertionError) as failed:
        pool_round(2, hold, lambda: None, Timeout, lambda: 0, threads, wait=0.2)
    assert isinstance(failed.value.__cause__, RuntimeError)
