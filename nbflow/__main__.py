"""``python -m nbflow``: the same as the ``nbflow`` command."""

import sys

from nbflow.cli import main

sys.exit(main())
