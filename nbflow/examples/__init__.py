"""Example jobs shipped with nbflow, runnable from an installed package.

``quickstart``: word statistics over a text, the job of the README's quick start
(``nbflow job execute -m nbflow.examples.quickstart``).
"""
