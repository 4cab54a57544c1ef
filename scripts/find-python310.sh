#!/usr/bin/env bash
# Prints the path of a Python 3.10 for .venv-nlu (Rasa 3.6 supports Python 3.8-3.10).
# Order: $NLU_PYTHON, python3.10 on PATH, pyenv, then `uv python install 3.10` (said out loud).
set -euo pipefail

is_310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

if [ -n "${NLU_PYTHON:-}" ]; then
  is_310 "$NLU_PYTHON" || { echo "NLU_PYTHON=$NLU_PYTHON is not Python 3.10" >&2; exit 1; }
  echo "$NLU_PYTHON"; exit 0
fi
if command -v python3.10 >/dev/null && is_310 "$(command -v python3.10)"; then
  command -v python3.10; exit 0
fi
if command -v pyenv >/dev/null; then
  for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)' | sort -rV); do
    candidate="$(pyenv prefix "$version")/bin/python3.10"
    if is_310 "$candidate"; then echo "$candidate"; exit 0; fi
  done
fi
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10; do
  if is_310 "$candidate"; then echo "$candidate"; exit 0; fi
done
if command -v uv >/dev/null; then
  echo "No Python 3.10 found: installing one with 'uv python install 3.10'" >&2
  uv python install 3.10 >&2
  uv python find 3.10; exit 0
fi
echo "No Python 3.10 found. Install one (pyenv install 3.10, or uv) or set NLU_PYTHON." >&2
exit 1
