"""The asyncio agent runtime, in small parts (the public names are re-exported by
:mod:`taskorch.agents`):

- :mod:`.worker`: the database worker that runs many agents' calls in one transaction;
- :mod:`.onloop`: when the worker may run a batch on the event loop without the loop waiting;
- :mod:`.fleet`: the agents, their leases and the supervisor;
- :mod:`.report`: what a run reports (its counters, :class:`~.report.FleetReport`), and what a
  handler may return (:class:`~.report.Result`);
- :mod:`.metrics`: latency samples and the event loop's lag.
"""
