# The inner loop and the full check. CI runs scripts/test.sh, which is `make test`.
.PHONY: test test-fast

# Everything but kernels, the browser, Dask clusters, Binder and the slow tests (under 2 min).
test-fast:
	python -m pytest -m "not kernel and not browser and not dask and not binder and not slow"

# Every check CI runs: lint, format, complexity, layers, types, the whole suite with coverage.
test:
	bash scripts/test.sh
