"""axe-core in every browser test: `audit(tab, name)` runs it on the page as it stands (the copy
bundled with the PyPI package `axe-playwright-python`, injected through Playwright, which the CSP
does not apply to) and fails on any serious or critical violation; every violation found, of any
impact, is written to `test-artifacts/axe/<name>.json` to read. The rules the issue found on the
site (`ALWAYS`) fail at any impact.

Two rules axe leaves off by default are switched on, because the issue that asked for this found
them on the site: `label-content-name-mismatch` (experimental) and `target-size` (WCAG 2.2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe

REPORTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe"
BLOCKING = frozenset({"serious", "critical"})
#: Rules that fail whatever impact axe gives them: those the issue found on the site.
ALWAYS = frozenset({"label-content-name-mismatch", "target-size", "landmark-unique", "heading-order"})
OPTIONS = {
    "resultTypes": ["violations"],
    "rules": {"label-content-name-mismatch": {"enabled": True}, "target-size": {"enabled": True}},
}
_AXE = Axe()


def violations(tab: Any) -> list[dict[str, Any]]:
    """Every violation axe finds on the page now."""
    return list(_AXE.run(tab, options=OPTIONS).response["violations"])


def summary(found: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}" for v in found
    )


#: Violations in markup the platform does not write, allowed by rule id where they occur: Swagger
#: UI's (`/docs`, the `swagger-ui-bundle-v2` package) grey version stamp, its operation rows (a
#: button inside a button), its small copy-path icons and its headings' levels. Anything else on
#: that page still fails.
SWAGGER_UI = frozenset({"color-contrast", "nested-interactive", "target-size", "heading-order"})


def audit(tab: Any, name: str, *, allow: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Run axe on `tab`, keep its report under `name`, fail on a serious or critical violation
    (but those of the rules in `allow`). Returns the violations that did not fail."""
    found = violations(tab)
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = {"url": tab.url, "viewport": tab.viewport_size, "violations": found}
    (REPORTS / f"{name}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    blocking = [v for v in found if (v["impact"] in BLOCKING or v["id"] in ALWAYS) and v["id"] not in allow]
    assert not blocking, f"axe on {tab.url} ({name}): {summary(blocking)}"
    return [v for v in found if v not in blocking]
