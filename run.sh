#!/usr/bin/env bash
# striate's main job: a tour of the lectures' worked examples, computed by striate.
set -euo pipefail
cd "$(dirname "$0")"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/striate tour "$@"
