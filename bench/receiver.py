"""A fast loopback webhook receiver for benchmarks and integration tests (a process of its own).

    python -m bench.receiver --ready-file /tmp/r.port [--port 0]

    python -m bench.receiver --ready-file /tmp/r.port --delay 0.25   # every answer 250 ms late

Answers every POST with 200 over HTTP/1.1 keep-alive (asyncio, a minimal parser: webhook
senders post a Content-Length body). A slow answer is a timer on the loop, not a task or a
thread, so thousands of requests can be held open at once. Paths choose a behaviour of their
own, for receivers that misbehave beside well-behaved ones:

- `/hang/...` never answers (the sender's timeout ends it);
- `/delay/LOW-HIGH/...` answers after a uniformly random LOW..HIGH seconds;
- any other path answers after `--delay` seconds (default 0).

For each request it records, on arrival, the path, a message id (`webhook-id` or `X-Webhook-Id`,
else the body's `"n"`: django-webhook sends no per-message id), the emit time (the body's
`"emitted_at"` unix time if present, else the envelope's `timestamp`) and the receipt time;
`GET /_records?from=N` returns records N.. as JSON lines `[path, id, emitted_at, received_at]`.
`GET /_stats` returns `{"lag": s, "connections": n}` and resets both: the worst lateness of this
process's event loop (a receiver starved of CPU records arrivals late, and that is not the sender's
doing) and how many connections senders opened, since the last ask.
It writes its port to --ready-file once listening.
"""

import argparse
import asyncio
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

_TIMESTAMP = re.compile(rb'"timestamp":"([^"]+)"')
_EMITTED_AT = re.compile(rb'"emitted_at":\s*([0-9.]+)')
_N = re.compile(rb'"n":\s*(\d+)')
_DELAY_PATH = re.compile(r"^/delay/([0-9.]+)-([0-9.]+)/")
RECORDS: list[tuple[str, str, float | None, float]] = []
DELAY = 0.0
LAG_TICK = 0.05
STATS = {"lag": 0.0, "connections": 0}
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class Receiver(asyncio.Protocol):
    def connection_made(self, transport):
        STATS["connections"] += 1
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            lines = head.split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            self.handle(method, target, headers, body)

    def handle(self, method: str, target: str, headers: dict, body: bytes) -> None:
        if method == "GET" and target.startswith("/_records"):
            STATS["connections"] -= 1  # the benchmark's own (urllib opens one per request)
            start = int(target.partition("from=")[2] or 0)
            payload = "\n".join(json.dumps(r) for r in RECORDS[start:]).encode()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
            return
        if method == "GET" and target.startswith("/_stats"):
            STATS["connections"] -= 1  # this one, the benchmark's own
            payload = json.dumps(STATS).encode()
            STATS.update(lag=0.0, connections=0)
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
            return
        RECORDS.append((target, message_id(headers, body), emitted_at(body), time.time()))
        if target.startswith("/hang/"):
            return
        delay = DELAY
        ranged = _DELAY_PATH.match(target)
        if ranged:
            delay = random.uniform(float(ranged.group(1)), float(ranged.group(2)))
        if delay:
            asyncio.get_running_loop().call_later(delay, self.answer)
        else:
            self.answer()

    def answer(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(OK)


def message_id(headers: dict, body: bytes) -> str:
    found = headers.get("webhook-id") or headers.get("x-webhook-id")
    if found:
        return found
    match = _N.search(body)
    return f"n{match.group(1).decode()}" if match else ""


def emitted_at(body: bytes) -> float | None:
    """When the event was emitted (unix time): the data's `emitted_at`, else the envelope's `timestamp`."""
    match = _EMITTED_AT.search(body)
    if match:
        return float(match.group(1))
    match = _TIMESTAMP.search(body)
    if match:
        return datetime.fromisoformat(match.group(1).decode().replace("Z", "+00:00")).timestamp()
    return None


class ReceiverProcess:
    """Runs this module as a child process; `records()` fetches what it has received so far."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._seen: list[list] = []

    def start(self, timeout: float = 10, delay: float = 0.0) -> "ReceiverProcess":
        ready = Path(tempfile.mkdtemp()) / "port"
        root = Path(__file__).resolve().parent.parent
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.receiver", "--ready-file", str(ready),
                                      "--delay", str(delay)], cwd=root)
        deadline = time.monotonic() + timeout
        while not (ready.exists() and ready.read_text()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("receiver did not start")
            time.sleep(0.05)
        self.port = int(ready.read_text())
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def records(self) -> list[list]:
        """Every record so far: [path, message id, emitted_at, received_at]."""
        with urllib.request.urlopen(self.url(f"/_records?from={len(self._seen)}"), timeout=30) as resp:
            text = resp.read().decode()
        self._seen.extend(json.loads(line) for line in text.splitlines() if line)
        return self._seen

    def stats(self) -> dict:
        """The receiver loop's worst lateness (s) and the connections opened to it since the last call."""
        with urllib.request.urlopen(self.url("/_stats"), timeout=30) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def watch_lag(loop: asyncio.AbstractEventLoop, due: float) -> None:
    now = loop.time()
    STATS["lag"] = max(STATS["lag"], now - due)
    loop.call_at(now + LAG_TICK, watch_lag, loop, now + LAG_TICK)


async def serve(port: int, ready_file: str | None) -> None:
    loop = asyncio.get_running_loop()
    watch_lag(loop, loop.time())
    server = await loop.create_server(Receiver, "127.0.0.1", port, backlog=4096)
    bound = server.sockets[0].getsockname()[1]
    if ready_file:
        with open(ready_file, "w") as fh:
            fh.write(str(bound))
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description="Fast loopback webhook receiver.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    global DELAY
    DELAY = args.delay
    asyncio.run(serve(args.port, args.ready_file))


if __name__ == "__main__":
    main()
