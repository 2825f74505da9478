"""Context serialization: a realistic 2 KB context encoded and decoded, and the specialist
context served from the cache and built from the database."""

from __future__ import annotations

from ._support import WorkloadBenchmark


class Encode(WorkloadBenchmark):
    """Encode a 2 KB context to JSON text (orjson, as installed by ``taskorch[fast]``)."""

    workload = "encode_context"
    version = "1"

    def time_encode(self) -> None:
        self.step()


class Decode(WorkloadBenchmark):
    """Decode a 2 KB context from JSON text."""

    workload = "decode_context"
    version = "1"

    def time_decode(self) -> None:
        self.step()


class Context(WorkloadBenchmark):
    """The specialist context of a subtask with 3 completed dependencies: from the cache, and
    rebuilt from the database each time (``context_cache_size=0``)."""

    workload = "context"
    param_names = ["cached"]
    params = [[True, False]]
    version = "1"

    def time_context(self, cached: bool) -> None:
        self.step()
