#!/usr/bin/env bash
# What the PDF credit extracts need, and what their tests check them with. Idempotent.
#
#   bash infra/provision/pdf-tools.sh           # runtime + poppler-utils + veraPDF (make test)
#   bash infra/provision/pdf-tools.sh runtime   # only what rendering needs (make demo)
#
# Runtime (Debian): Pango and HarfBuzz, which WeasyPrint lays text out with (it loads them with
# dlopen, so pip cannot bring them), fontconfig, and a CJK font to embed (WenQuanYi Micro Hei).
# Tests: poppler-utils (pdftoppm: page 1 as PNG; pdftotext: the text per page) and veraPDF, the
# PDF/UA-1 validator, whose jars come from Maven Central into $GONGSHI_CACHE_DIR (default
# ~/.cache/gongshi)/verapdf-<version>/libs; it runs on the machine's Java 17.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=infra/provision/apt.sh
source "$HERE/apt.sh"

RUNTIME=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-wqy-microhei)
TESTS=(poppler-utils)
FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc

have_runtime() {
  [[ -f "$FONT" ]] && ldconfig -p | grep -q 'libpangoft2-1.0.so.0' && ldconfig -p | grep -q 'libharfbuzz-subset.so.0'
}

if ! have_runtime || { [[ "${1:-}" != "runtime" ]] && ! command -v pdftoppm >/dev/null 2>&1; }; then
  if [[ "${1:-}" == "runtime" ]]; then apt_install "${RUNTIME[@]}"; else apt_install "${RUNTIME[@]}" "${TESTS[@]}"; fi
  command -v fc-cache >/dev/null 2>&1 && { fc-cache -f >/dev/null 2>&1 || true; }
fi
echo "pdf-tools: Pango, HarfBuzz and $(basename "$FONT") installed"
[[ "${1:-}" == "runtime" ]] && exit 0

VERAPDF_VERSION="$(sed -n 's/^VERAPDF_VERSION=//p' "$HERE/versions.env")"
MAVEN_DEPENDENCY_PLUGIN_VERSION="$(sed -n 's/^MAVEN_DEPENDENCY_PLUGIN_VERSION=//p' "$HERE/versions.env")"
CACHE_DIR="${GONGSHI_CACHE_DIR:-$HOME/.cache/gongshi}"
HOME_DIR="$CACHE_DIR/verapdf-$VERAPDF_VERSION"
if [[ -f "$HOME_DIR/.complete" ]]; then
  echo "pdf-tools: veraPDF $VERAPDF_VERSION in $HOME_DIR"
  exit 0
fi
command -v mvn >/dev/null || { echo "pdf-tools: mvn not found (Maven fetches veraPDF from Maven Central)" >&2; exit 1; }
echo "pdf-tools: fetching veraPDF $VERAPDF_VERSION from Maven Central -> $HOME_DIR"
mkdir -p "$CACHE_DIR"
tmp="$HOME_DIR.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
cp "$HERE/verapdf/pom.xml" "$tmp/pom.xml"
args=(-q -B -Dstyle.color=never)
[[ -n "${GONGSHI_MAVEN_REPO:-}" ]] && args+=("-Dmaven.repo.local=$GONGSHI_MAVEN_REPO")
if ! (cd "$tmp" && mvn "${args[@]}" -f pom.xml "-Dverapdf.version=$VERAPDF_VERSION" \
      "org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN_VERSION:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$tmp/libs" > "$tmp/maven.log" 2>&1); then
  tail -n 30 "$tmp/maven.log" >&2
  rm -rf "$tmp"
  echo "pdf-tools: could not fetch org.verapdf.apps:greenfield-apps:$VERAPDF_VERSION" >&2
  exit 1
fi
ls "$tmp/libs/greenfield-apps-$VERAPDF_VERSION.jar" >/dev/null
touch "$tmp/.complete"
rm -rf "$HOME_DIR"; mv "$tmp" "$HOME_DIR"
echo "pdf-tools: veraPDF $VERAPDF_VERSION installed in $HOME_DIR"
