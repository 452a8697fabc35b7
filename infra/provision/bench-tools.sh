#!/usr/bin/env bash
# Install what the HTTP benchmarks drive load with: wrk (Debian's package), a C load generator
# that leaves the machine's cores to the API and Elasticsearch. Idempotent.
#
#   bash infra/provision/bench-tools.sh
set -euo pipefail

if command -v wrk >/dev/null 2>&1; then
  echo "bench-tools: wrk already installed"
  exit 0
fi
SUDO=""
if [[ "$(id -u)" != 0 ]]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends wrk
echo "bench-tools: $(wrk -v 2>&1 | head -1) installed"
