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
# shellcheck source=infra/provision/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
apt_install wrk
echo "bench-tools: $(wrk -v 2>&1 | head -1) installed"
