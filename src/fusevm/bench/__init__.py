"""The benchmark harness: workloads, their plain-Python twins, runners (tiers) and the report.

`fusevm bench` (and `make bench`) call `fusevm.bench.harness.main`. A JIT module may add
`fusevm/bench/jit_workloads.py` with `WORKLOADS` (a sequence of `workloads.Workload`) and/or
`RUNNERS` (a sequence of `runners.Runner`); both are picked up when present.
"""
