"""``crossrank serve`` as users run it, for the CLI tests: a subprocess on a local Ray, up once /health answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


@contextmanager
def serving(model: str, port: int, options: list[str], log_path: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """Start ``crossrank serve --model MODEL --port PORT --address local OPTIONS``; the process and its URL.

    On exit it is stopped with SIGTERM and must exit with status 0; its output goes to ``log_path``.
    """
    command = [sys.executable, "-m", "crossrank_cli", "serve", "--model", model, "--port", str(port)]
    command += ["--address", "local", *options]
    log = log_path.open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RAY_ADDRESS": ""})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not come up in 180 s"
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(1)
        yield server, url
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=120) == 0
        log.close()
