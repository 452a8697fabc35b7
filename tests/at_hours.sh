#!/usr/bin/env bash
# Run the tests that need no engine as if the clock read 00:30, 08:30, 16:30 and 23:30 UTC today
# (`--at-utc`, tests/conftest.py), so a suite that only passes at some hours fails here, whatever
# hour CI runs at. From 16:00 to 24:00 UTC the China date is already tomorrow: 16:30 and 23:30
# are in that window. Extra arguments go to pytest (e.g. tests/unit).
#
#   bash tests/at_hours.sh [PYTEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
if [[ ${#args[@]} -eq 0 ]]; then
  args=(-m "not engines and not browser")
fi
for hour in 00:30 08:30 16:30 23:30; do
  echo "== at ${hour} UTC today =="
  .venv/bin/pytest -q --at-utc "$hour" "${args[@]}"
done
