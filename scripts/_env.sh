# Sourced by scripts/demo and scripts/test: creates .venv on first use, installs the pinned CPU torch
# first (an unpinned torch would pull a multi-GB CUDA build), then the project, and points the models
# at ../shared when that folder is there (machines without Hugging Face hub access).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EXTRAS="${1:-all}"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
HASH="$(sha256sum pyproject.toml | cut -c1-16)"
STAMP=".venv/.crossrank-$EXTRAS-$HASH"
# The dev extras include every other extra: a venv set up for the tests also runs the demo.
if [ ! -f "$STAMP" ] && [ ! -f ".venv/.crossrank-dev-$HASH" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e ".[$EXTRAS]"
  touch "$STAMP"
fi
SHARED="$ROOT/../shared"
if [ -d "$SHARED/models" ]; then
  export CROSSRANK_MODEL="${CROSSRANK_MODEL:-$SHARED/models/minilm-l6-scifact-ce}"
  export CROSSRANK_EMBED_MODEL="${CROSSRANK_EMBED_MODEL:-$SHARED/models/all-MiniLM-L6-v2}"
  export CROSSRANK_SCIFACT="${CROSSRANK_SCIFACT:-$SHARED/data/scifact}"
  export HF_HUB_OFFLINE=1
fi
