"""Draw the README's picture: the DAG of the quick-start job, as SVG.

    python scripts/make_readme_dag.py [OUTPUT]     # default: docs/quickstart-dag.svg

The drawing is made by nbflow itself (``nbflow.notebook.render``) with the Graphviz ``dot``
program, so the checked-in file changes only when the job or the drawing code does.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JOB_FILE = ROOT / "examples" / "quickstart.py"
DEFAULT_OUTPUT = ROOT / "docs" / "quickstart-dag.svg"


def main(argv: list[str]) -> int:
    import nbflow.notebook as nbn

    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    job = runpy.run_path(str(JOB_FILE))["word_stats"]
    written = nbn.render(job, output, engine="dot")
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
