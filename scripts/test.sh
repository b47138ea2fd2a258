#!/usr/bin/env bash
# Installs nbflow with its test dependencies, then runs every check CI runs:
# ruff, the import-layer contracts, mypy, and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e ".[dev]"

echo "== ruff";         python -m ruff check nbflow tests bench examples
echo "== import-linter"; lint-imports
echo "== mypy";         python -m mypy
echo "== pytest";       python -m pytest "$@"
