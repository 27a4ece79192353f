"""``crossrank serve`` on loopback: Ray's own ports listen on 127.0.0.1 only, no dashboard, the proxy guard on."""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from pathlib import Path

import httpx
import pytest
from serve_process import serving

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads listening sockets from /proc")


def _descendants(root: int) -> set[int]:
    """``root`` and every process below it."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, added = {root}, True
    while added:
        new = {pid for pid, parent in parents.items() if parent in tree and pid not in tree}
        tree |= new
        added = bool(new)
    return tree


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return ipaddress.IPv4Address(raw[::-1])
    return ipaddress.IPv6Address(b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))


def _listening(pids: set[int]) -> list[tuple[str, int, int]]:
    """(address, port, pid) of every TCP socket in LISTEN state that one of ``pids`` holds."""
    inodes: dict[str, int] = {}
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes[target[8:-1]] = pid
        except OSError:
            continue
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                host, port = fields[1].split(":")
                found.append((str(_address(host)), int(port, 16), inodes[fields[9]]))
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def test_serve_keeps_ray_on_loopback_without_a_dashboard_and_guards_the_proxy(tiny_model_dir, tmp_path, loopback_port):
    port = loopback_port
    options = ["--precision", "fp32", "--num-cpus", "1", "--header-timeout-s", "2"]
    with serving(tiny_model_dir, port, options, tmp_path / "serve.log") as (server, url):
        tree = _descendants(server.pid)
        listening = _listening(tree)
        assert port in {p for _, p, _ in listening}
        assert len(listening) >= 4, listening  # the HTTP proxy, GCS, the raylet, workers...
        exposed = [(address, p, _cmdline(pid)[:80]) for address, p, pid in listening]
        assert not [row for row in exposed if not _is_loopback(row[0])], exposed
        # Ray always starts its dashboard process; without the dashboard it loads only usage statistics and
        # serves no web page (its one port is on loopback, as checked above).
        dashboards = {pid for pid in tree if b"dashboard/dashboard.py" in _cmdline(pid)}
        for pid in dashboards:
            assert b"--disable-frontend" in _cmdline(pid) and b"--modules-to-load=UsageStatsHead" in _cmdline(pid)

        refused = httpx.post(f"{url}/rerank", content=b"{}", headers={"content-type": "text/plain"})
        assert refused.status_code == 415 and refused.json()["kind"] == "UnsupportedMediaType"
        with socket.create_connection(("127.0.0.1", port), timeout=60) as stalled:
            stalled.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            answer = stalled.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started >= 1.5, answer
