"""Read-only views of jobs and runs: the graph view and its DOT, version tables
(``list_versions``), the memo plan, and plain-text tables."""
