"""Executors that run steps outside the run's process: step processes (multiprocess), the
out-of-process protocol they and the Dask executor share, and how jobs travel to them
(by value, or by reconstructable pointer)."""
