"""One API process for the scale-out test (which `kill -9`s it).

    python -m tests.integration.api_proc '<Settings as JSON>' PORT

Builds the Container from the settings given on the command line (nothing from the environment
decides where the engines are) and serves the app with uvicorn on 127.0.0.1:PORT, with no
background threads (what `gongshi run api` serves), until SIGTERM or SIGINT.
"""

from __future__ import annotations

import json
import sys

import uvicorn

from api.app import create_app
from infra.bootstrap import Container
from infra.settings import Settings


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    container = Container(Settings(**json.loads(argv[1])))
    uvicorn.run(create_app(container), host="127.0.0.1", port=int(argv[2]), log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
