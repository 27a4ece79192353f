"""A served reranker under hostile clients: peak memory per body size, and throughput beside stalled clients.

    python benchmarks/serve_hostile.py [--model MODEL] [--seconds 20] [--clients 200] [--stalled 70]
        [--out benchmarks/results/serve-hostile-cpu.json]

Starts a local Ray (2 CPUs) and the app of ``crossrank serve`` with its default limits (``ServeLimits()``),
behind the proxy guard (``serve_start_options``), on a loopback port. Linux only: it reads peak memory from
``/proc``.

1. Memory. For each of the worst request shapes, the peak growth of the resident memory of the HTTP proxy,
   the ingress replica and the scoring replica (``VmHWM`` after resetting it through ``clear_refs``) while
   one request of that shape is answered, and that growth over the request's body size; each shape on a
   freshly started Serve, so that memory kept from one shape does not hide the next one's peak.
2. Throughput. ``--clients`` concurrent clients send small requests (a query and 10 passages of 60 words)
   for ``--seconds``: alone, then with ``--stalled`` clients that keep a body open at one byte a second
   (each one dropped with 408 at ``body_timeout_s`` is opened again at once), then the same stalled clients
   against a Serve started without the proxy guard (the ingress replica's own deadline only).

The figures belong to the machine they were measured on (written into the results with ``cpu_info``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from crossrank_harness.ports import free_loopback_port

WORDS = (
    "zebrafish heart regeneration cardiomyocyte proliferation injury tissue repair signalling cancer risk "
    "protein gene model study result patients trial cohort dose response"
).split()
MIB = 1024 * 1024


def _passages(i: int, count: int = 10, words: int = 60) -> list[str]:
    n = len(WORDS)
    return [" ".join(WORDS[(i * 7 + j * 3 + w * (j + 1)) % n] for w in range(words)) for j in range(count)]


def _pids() -> dict[str, int]:
    """The process of the HTTP proxy, the ingress replica and the scoring replica."""
    import ray

    found = {}
    for actor in ray.util.list_named_actors(all_namespaces=True):
        name = actor["name"]
        role = next(
            (
                r
                for r, key in (("proxy", "SERVE_PROXY"), ("ingress", "#RerankIngress#"), ("scorer", "#RerankScorer#"))
                if key in name
            ),
            None,
        )
        if role:
            handle = ray.get_actor(name, namespace=actor["namespace"])
            found[role] = ray.get(handle.__ray_call__.remote(lambda self: os.getpid()))
    return found


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peaks(pids: dict[str, int]) -> dict[str, int]:
    """Reset each process's peak resident memory to its current one; return the current ones (KiB)."""
    for pid in pids.values():
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    return {role: _status_kb(pid, "VmRSS") for role, pid in pids.items()}


def _peak_growth(pids: dict[str, int], before: dict[str, int]) -> dict[str, float]:
    """MiB each process's peak rose above its resident memory before the request."""
    return {role: (_status_kb(pid, "VmHWM") - before[role]) / 1024 for role, pid in pids.items()}


def _post_raw(port: int, head: bytes, body_chunks: Any) -> tuple[int, int, bytes]:
    """Send ``head`` then each chunk, stopping when the server answers; (status, bytes sent, answer)."""
    import select

    with socket.create_connection(("127.0.0.1", port), timeout=300) as sock:
        sock.sendall(head)
        sent = 0
        for chunk in body_chunks:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(chunk)
            except OSError:
                break
            sent += len(chunk)
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
            answer += sock.recv(65536)
        except (OSError, TimeoutError):
            pass
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, sent, answer


def _json_head(length: int | None) -> bytes:
    size = b"Transfer-Encoding: chunked" if length is None else b"Content-Length: %d" % length
    return b"POST /rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + size + b"\r\n\r\n"


def _shapes(limits: Any) -> list[tuple[str, bytes | None]]:
    """(name, body) of the worst shapes; ``None``: a chunked upload of 4x the body limit."""
    astral = "\U0001f600"
    query = "what makes zebrafish hearts regenerate?"
    return [
        ("1 MB query x 20 short documents", json.dumps({"query": "x" * 1_000_000, "documents": ["short"] * 20})),
        ("one 15 MB document (ASCII)", json.dumps({"query": query, "documents": ["a" * 15_000_000]})),
        (
            "one 15 MB document with one emoji (4 bytes a character in Python)",
            json.dumps({"query": query, "documents": [astral + "a" * 15_000_000]}, ensure_ascii=False),
        ),
        ("deeply nested JSON, 15 MB", "[" * 15_000_000),
        ("1000 one-character documents", json.dumps({"query": query, "documents": ["a"] * 1000})),
        (
            "1000 documents of 3,900 characters (the largest accepted)",
            json.dumps({"query": query, "documents": [" ".join(_passages(i, 1, 600))[:3900] for i in range(1000)]}),
        ),
        (
            "1000 documents of 3,900 characters with an emoji each (accepted)",
            json.dumps(
                {"query": query, "documents": [astral + " ".join(_passages(i, 1, 600))[:3899] for i in range(1000)]},
                ensure_ascii=False,
            ),
        ),
        (f"chunked upload of {4 * limits.max_body_bytes // MIB} MB", None),
    ]


def memory_rows(port: int, limits: Any, start: Any) -> list[dict[str, Any]]:
    """Peak memory growth per process for each worst shape, each on a freshly started Serve (``start()``).

    Fresh processes: memory freed after one shape stays in the process (Python's and glibc's allocators keep
    it) and would hide the next shape's peak.
    """
    from ray import serve

    rows = []
    for name, text in _shapes(limits):
        start()
        pids = _pids()
        time.sleep(1.0)
        before = _reset_peaks(pids)
        started = time.perf_counter()
        if text is None:
            chunk = b"a" * 65536
            framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
            status, sent, answer = _post_raw(
                port, _json_head(None), (framed for _ in range(4 * limits.max_body_bytes // 65536))
            )
            body_bytes = limits.max_body_bytes  # the most the server reads of it (the rest: socket buffers)
        else:
            body = text.encode()
            body_bytes = len(body)
            status, sent, answer = _post_raw(
                port, _json_head(len(body)), (body[i : i + MIB] for i in range(0, len(body), MIB))
            )
        seconds = time.perf_counter() - started
        time.sleep(0.5)
        growth = _peak_growth(pids, before)
        kind = ""
        if b"\r\n\r\n" in answer:
            try:
                kind = json.loads(answer.split(b"\r\n\r\n", 1)[1]).get("error", "")
            except ValueError:
                kind = ""
        rows.append(
            {
                "shape": name,
                "body_mb": body_bytes / MIB,
                "status": status,
                "error": kind,
                "client_sent_mb_before_answer": sent / MIB,
                "seconds": seconds,
                "resident_mb_before": {role: kb / 1024 for role, kb in before.items()},
                "peak_growth_mb": growth,
                "peak_growth_over_body": {role: mb / (body_bytes / MIB) for role, mb in growth.items()},
            }
        )
        serve.shutdown()
        print(
            f"  {name}: {status} {kind} body {body_bytes / MIB:.2f} MB; peak growth "
            + ", ".join(f"{r} {mb:.0f} MB" for r, mb in growth.items())
        )
    return rows


async def _stall_forever(port: int, stop: asyncio.Event, drops: list[int]) -> None:
    """Keep one body open at a byte a second; when the server drops it, open another."""
    head = _json_head(1000) + b"{"
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head)
            while not stop.is_set():
                try:
                    data = await asyncio.wait_for(reader.read(4096), 1.0)
                except TimeoutError:
                    writer.write(b" ")
                    continue
                if data.startswith(b"HTTP/1.1 408"):
                    drops[0] += 1
                break
            writer.close()
        except OSError:
            await asyncio.sleep(0.1)


async def _load(url: str, port: int, clients: int, stalled: int, seconds: float) -> dict[str, Any]:
    import httpx

    stop = asyncio.Event()
    drops = [0]
    stallers = [asyncio.create_task(_stall_forever(port, stop, drops)) for _ in range(stalled)]
    await asyncio.sleep(1.0 if stalled else 0)
    latencies: list[float] = []
    failures: dict[str, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        end = time.perf_counter() + seconds

        async def one_client(i: int) -> None:
            n = 0
            while time.perf_counter() < end:
                body = {"query": f"{WORDS[i % len(WORDS)]} {WORDS[n % len(WORDS)]}", "documents": _passages(i + n)}
                started = time.perf_counter()
                try:
                    response = await client.post(f"{url}/rerank", json=body)
                    if response.status_code == 200:
                        latencies.append(time.perf_counter() - started)
                    else:
                        failures[str(response.status_code)] = failures.get(str(response.status_code), 0) + 1
                except httpx.HTTPError as exc:
                    failures[type(exc).__name__] = failures.get(type(exc).__name__, 0) + 1
                n += 1

        began = time.perf_counter()
        await asyncio.gather(*(one_client(i) for i in range(clients)))
        elapsed = time.perf_counter() - began
    stop.set()
    await asyncio.gather(*stallers, return_exceptions=True)
    lat = np.array(latencies) if latencies else np.array([np.nan])
    return {
        "clients": clients,
        "stalled_clients": stalled,
        "seconds": elapsed,
        "answered": len(latencies),
        "requests_per_s": len(latencies) / elapsed,
        "latency_p50_s": float(np.percentile(lat, 50)),
        "latency_p95_s": float(np.percentile(lat, 95)),
        "failures": failures,
        "stalled_dropped_with_408": drops[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model", default=os.environ.get("CROSSRANK_MODEL"), required=not os.environ.get("CROSSRANK_MODEL")
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--stalled", type=int, default=70)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/serve-hostile-cpu.json"))
    args = parser.parse_args()
    if not Path("/proc/self/clear_refs").exists():
        sys.exit("This benchmark reads peak memory from /proc (Linux).")

    import ray
    from ray import serve

    from rerank_core.backends.cpu import cpu_info
    from rerank_core.serving.app import build_app, serve_start_options
    from rerank_core.serving.wire import ServeLimits

    limits = ServeLimits()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"

    def start() -> None:
        serve.start(**serve_start_options("127.0.0.1", port, limits))
        serve.run(build_app(args.model, limits=limits), route_prefix="/")

    print(f"Serving {args.model} at {url}, limits {limits.model_dump()}")
    print("Memory, one request of each shape, each on a fresh Serve:")
    memory = memory_rows(port, limits, start)
    start()
    print("Throughput:")
    load = []
    for stalled in (0, args.stalled):
        row = asyncio.run(_load(url, port, args.clients, stalled, args.seconds))
        row["proxy_guard"] = True
        load.append(row)
        print(f"  {row}")
    serve.shutdown()
    serve.start(http_options={"host": "127.0.0.1", "port": port})  # no guard: the ingress's own deadline only
    serve.run(build_app(args.model, limits=limits), route_prefix="/")
    row = asyncio.run(_load(url, port, args.clients, args.stalled, args.seconds))
    row["proxy_guard"] = False
    load.append(row)
    print(f"  {row}")
    serve.shutdown()
    ray.shutdown()
    results = {
        "machine": cpu_info().to_json(),
        "model": args.model,
        "limits": limits.model_dump(),
        "memory": memory,
        "throughput": load,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
