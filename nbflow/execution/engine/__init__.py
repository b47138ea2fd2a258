"""The engine: plans, run config, resources, contexts, versions and memoization, the step
loop, run results, and the executor protocol with the in-process executor it always has."""
