"""What every harness needs around a workload, each written once.

- :mod:`perfkit.harness.store`: a fresh SQLite file (path, URL or open orchestrator) in a
  directory, and temporary directories to hold them;
- :mod:`perfkit.harness.memory`: a process's resident memory now and at its peak, a sampler on a
  thread, and the memory of a child process measured from outside (psutil);
- :mod:`perfkit.harness.timing`: calls of a step timed one by one, and their summary (mean,
  median, percentiles) computed with :mod:`statistics`;
- :mod:`perfkit.harness.environment`: where the numbers come from;
- :mod:`perfkit.harness.postgres`: which PostgreSQL server to measure on, and schemas of one's
  own there; :mod:`perfkit.harness.pg_server`: a throw-away server for one benchmark run, and
  the watchdog that removes it when the run ends.

Nothing is imported here: :mod:`perfkit.workloads` runs inside asv against old commits of the
engine and takes only :mod:`~perfkit.harness.store`, which needs nothing but the engine's
``taskorch.open``.

May import: nothing of perfkit.
"""
