"""One ingestion worker in its own process, for the fault tests (which `kill -9` it).

    python -m tests.integration.worker_proc '<Settings as JSON>'

Builds the Container from the settings given on the command line (nothing from the
environment decides where the engines are), logs to stderr, and runs `worker.run_forever()`
until SIGTERM or SIGINT; then prints the worker's counts as one JSON line on stdout and closes.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from types import FrameType

from infra.bootstrap import Container
from infra.settings import Settings


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("kafka").setLevel(logging.WARNING)
    container = Container(Settings(**json.loads(argv[1])))
    worker = container.worker

    def stop(signum: int, frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.getLogger(__name__).info("worker started (group %s)", container.settings.consumer_group)
    try:
        worker.run_forever()
    finally:
        print(json.dumps(dict(worker.counts)), flush=True)
        container.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
