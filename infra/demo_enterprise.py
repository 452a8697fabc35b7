"""`python -m infra.demo_enterprise FILE.jsonl`: the USCC of one demo enterprise — the first entity
the generated file registers that it never deregisters nor strips of its licence — so `make demo`
can invite it and print its activation code for a newcomer to try the enterprise portal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ENDED = ("registration.deregistered", "registration.licence_revoked")


def pick(path: Path) -> str:
    registered: list[str] = []
    ended: set[str] = set()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            envelope = json.loads(line)
            if envelope["kind"] == "registration.registered" and "个体" not in str(
                envelope["payload"].get("entity_type", "")
            ):
                registered.append(envelope["uscc"])
            elif envelope["kind"] in ENDED:
                ended.add(envelope["uscc"])
    for uscc in registered:
        if uscc not in ended:
            return uscc
    raise SystemExit(f"{path}: no active entity registered")


if __name__ == "__main__":
    print(pick(Path(sys.argv[1])))
