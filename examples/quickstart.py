"""nbflow's main example job: word statistics over a text, run with `nbflow job execute`.

nbflow job execute -f examples/quickstart.py
nbflow job execute -f examples/quickstart.py -c examples/quickstart.yaml

The job itself ships inside the package (nbflow/examples/quickstart.py), so that an installed
nbflow can run it too: `nbflow job execute -m nbflow.examples.quickstart`.
"""

from nbflow.examples.quickstart import word_stats

__all__ = ["word_stats"]
