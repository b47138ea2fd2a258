#!/usr/bin/env bash
# Installs nbflow with its test dependencies, then runs every check CI runs:
# ruff (lint, complexity and format), the import-layer contracts, mypy, and the test suite with
# its coverage gate (every Python process the tests start is measured: see pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

# The DAG-rendering tests draw with the Graphviz `dot` program, and the browser tests drive
# JupyterLab in Debian's Chromium through Playwright's Python package (never
# `playwright install`: that would download a browser of its own). Install what is missing, in
# one apt-get run, where we can, while pip installs nbflow.
missing=()
command -v dot >/dev/null || missing+=(graphviz)
[ -x /usr/lib/chromium/chromium ] || missing+=(chromium fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
    (command -v apt-get >/dev/null && [ "$(id -u)" = 0 ] && apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null) \
        || echo "note: could not install ${missing[*]}; the rendering or browser tests will fail" &
fi

python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
wait

# The notebook tests run real notebooks in a Jupyter kernel named python3.
jupyter kernelspec list 2>/dev/null | grep -qE '^\s+python3\s' \
    || python -m ipykernel install --sys-prefix --name python3 >/dev/null

echo "== ruff";         python -m ruff check nbflow tests bench examples scripts
echo "== ruff format";  python -m ruff format --check nbflow tests bench examples scripts
echo "== import-linter"; lint-imports
echo "== mypy";         python -m mypy
# The gate is what the whole suite reaches; to run a part of it, pass --no-cov as well.
echo "== pytest";       python -m pytest --cov=nbflow --cov-report=term --cov-fail-under=93 --durations=15 "$@"
