"""Example jobs shipped with nbflow, run with ``nbflow example NAME``."""
