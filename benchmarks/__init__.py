"""taskorch's asv suite: one module per area, every benchmark driving a shared workload from
``perfkit/workloads/__init__.py``. See docs/benchmarks.md for what each one measures and why."""
