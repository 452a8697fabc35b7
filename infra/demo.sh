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
# one demo enterprise, invited afresh at every start (a new code voids the old one)
DEMO_USCC="$("$BIN/python" -m infra.demo_enterprise "$DATA/demo.jsonl")"
DEMO_CODE="$("$BIN/gongshi" enterprises invite "$DEMO_USCC" 2>/dev/null | tail -n 1)"
echo "Demo enterprise 演示企业: USCC ${DEMO_USCC}  activation code 激活码 ${DEMO_CODE}"
echo "  → http://${GONGSHI_HTTP_HOST:-127.0.0.1}:${GONGSHI_HTTP_PORT:-8000}/enterprise/login (activate, then log in)"
echo "Gongshi is serving on http://${GONGSHI_HTTP_HOST:-127.0.0.1}:${GONGSHI_HTTP_PORT:-8000}/"
exec "$BIN/gongshi" serve
