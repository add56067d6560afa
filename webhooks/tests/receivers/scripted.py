"""A receiver on 127.0.0.1 whose behaviour a test changes while it runs: how long it holds each request,
what status it answers. It counts the requests open at once, so a test can prove a concurrency cap."""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    webhook_id: str
    type: str
    data: dict
    status: int
    arrived: float


class _Server(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A held request whose sender timed out finds its socket closed: expected, not worth a traceback.
        pass


class ScriptedReceiver:
    """`hold` seconds per request (cut short when the receiver stops), then `status`; both settable."""

    def __init__(self, *, hold: float = 0.0, status: int = 200):
        self.hold, self.status = hold, status
        self.seen: list[Seen] = []
        self.open_now = 0
        self.peak = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the engine's client expects

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver._enter(body, self.headers)
                try:
                    receiver._stopping.wait(receiver.hold)
                finally:
                    receiver._leave()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _enter(self, body: bytes, headers) -> int:
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = {}
        with self._lock:
            self.open_now += 1
            self.peak = max(self.peak, self.open_now)
            status = self.status
            self.seen.append(Seen(headers.get("webhook-id") or headers.get("X-Webhook-Id", ""),
                                  envelope.get("type", ""), envelope.get("data", {}), status, time.monotonic()))
        return status

    def _leave(self) -> None:
        with self._lock:
            self.open_now -= 1

    def ids(self, type: str | None = None) -> list[str]:
        """Message ids received, in order, repeats included (a duplicate shows up twice)."""
        with self._lock:
            return [s.webhook_id for s in self.seen if type is None or s.type == type]

    def __enter__(self) -> "ScriptedReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()
