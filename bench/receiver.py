"""A fast loopback webhook receiver for benchmarks and integration tests (a process of its own).

    python -m bench.receiver --ready-file /tmp/r.port [--port 0]

Answers every POST with 200 over HTTP/1.1 keep-alive (asyncio, a minimal parser: webhook
senders post a Content-Length body). For each request it records the path, the message id
(`webhook-id` or `X-Webhook-Id`), the envelope's `timestamp` and the receipt time;
`GET /_records?from=N` returns records N.. as JSON lines `[path, id, timestamp, received_at]`.
It writes its port to --ready-file once listening.
"""

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

_TIMESTAMP = re.compile(rb'"timestamp":"([^"]+)"')
RECORDS: list[tuple[str, str, str, float]] = []
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class Receiver(asyncio.Protocol):
    def connection_made(self, transport):
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
            start = int(target.partition("from=")[2] or 0)
            payload = "\n".join(json.dumps(r) for r in RECORDS[start:]).encode()
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
            return
        received = time.time()
        match = _TIMESTAMP.search(body)
        msg_id = headers.get("webhook-id") or headers.get("x-webhook-id", "")
        RECORDS.append((target, msg_id, match.group(1).decode() if match else "", received))
        self.transport.write(OK)


def emitted_at(timestamp: str) -> float:
    """The envelope's `timestamp` (ISO 8601 with `Z`) as a unix time."""
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


class ReceiverProcess:
    """Runs this module as a child process; `records()` fetches what it has received so far."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._seen: list[list] = []

    def start(self, timeout: float = 10) -> "ReceiverProcess":
        ready = Path(tempfile.mkdtemp()) / "port"
        root = Path(__file__).resolve().parent.parent
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.receiver", "--ready-file", str(ready)], cwd=root)
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
        """Every record so far: [path, message id, envelope timestamp, received_at]."""
        with urllib.request.urlopen(self.url(f"/_records?from={len(self._seen)}"), timeout=30) as resp:
            text = resp.read().decode()
        self._seen.extend(json.loads(line) for line in text.splitlines() if line)
        return self._seen

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


async def serve(port: int, ready_file: str | None) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Receiver, "127.0.0.1", port, backlog=1024)
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
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.ready_file))


if __name__ == "__main__":
    main()
