#!/usr/bin/env bash
# `make demo`: generate a realistic register once, load it through the ingestion path once, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DATA="${GONGSHI_DATA_DIR:-var}"
ENTITIES="${DEMO_ENTITIES:-2000}"
SEED="${DEMO_SEED:-20261122}"
export GONGSHI_DATA_DIR="$DATA"
mkdir -p "$DATA"
if [ ! -s "$DATA/demo.jsonl" ]; then
  "$BIN/gongshi" generate --entities "$ENTITIES" --seed "$SEED" --out "$DATA/demo.jsonl.tmp"
  mv "$DATA/demo.jsonl.tmp" "$DATA/demo.jsonl"
fi
if [ ! -f "$DATA/.demo-loaded" ]; then
  "$BIN/gongshi" load "$DATA/demo.jsonl"
  touch "$DATA/.demo-loaded"
fi
echo "Gongshi is serving on http://${GONGSHI_HTTP_HOST:-127.0.0.1}:${GONGSHI_HTTP_PORT:-8000}/"
exec "$BIN/gongshi" serve
