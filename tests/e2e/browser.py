"""What the browser tests share, and the tests that need a real server: Debian's Chromium
launched by Playwright, and a uvicorn server on a free port (over a test platform's container,
its lifespan off: the platform fixture owns the container; or over any app). Chromium and the
CJK font come from `infra/provision/browser.sh` (the Playwright browser download does not work
here); under CI=true a missing Chromium fails the run, elsewhere it skips."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import pytest
import uvicorn

from api.app import create_app
from tests.engines import in_ci

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(container: Any, name: str) -> Iterator[str]:
    """The app over `container` (which the caller owns: lifespan off), served by uvicorn in a
    thread named `name`; yields its URL."""
    with served_app(create_app(container, owns_container=False), name, lifespan="off") as url:
        yield url


@contextmanager
def served_app(app: Any, name: str, *, lifespan: Literal["on", "off"] = "on") -> Iterator[str]:
    """`app` served by uvicorn on a free port in a thread named `name`; yields its URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    )
    thread = threading.Thread(target=server.run, daemon=True, name=name)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start", pytrace=False)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Chromium under Playwright (fails under CI=true when it is missing, skips elsewhere)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing — run `bash infra/provision/browser.sh`"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
