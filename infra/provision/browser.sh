#!/usr/bin/env bash
# Install what the browser tests need: Debian's Chromium and a CJK font (WenQuanYi Micro Hei),
# which also serves the PDF credit extracts. Idempotent: does nothing when both are present.
#
#   bash infra/provision/browser.sh
set -euo pipefail

#   bash infra/provision/browser.sh fonts   # only the CJK font (what `make demo` needs for PDFs)
CHROMIUM=/usr/bin/chromium
FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
PACKAGES=(chromium fonts-wqy-microhei poppler-utils)
if [[ "${1:-}" == "fonts" ]]; then
  PACKAGES=(fonts-wqy-microhei)
  if [[ -f "$FONT" ]]; then exit 0; fi
elif [[ -x "$CHROMIUM" && -f "$FONT" ]] && command -v pdftotext >/dev/null 2>&1; then
  echo "browser: chromium, fonts-wqy-microhei and poppler-utils already installed"
  exit 0
fi

# shellcheck source=infra/provision/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
apt_install "${PACKAGES[@]}"
if command -v fc-cache >/dev/null 2>&1; then
  fc-cache -f >/dev/null 2>&1 || true
fi
echo "browser: $("$CHROMIUM" --version 2>/dev/null || echo chromium) and $(basename "$FONT") installed"
