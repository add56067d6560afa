"""Real HTTP receivers on 127.0.0.1 for the receiver tests: Python ones in a thread, the Node one as a process."""

import json
import os
import subprocess
import threading
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Request:
    """What a framework hands a view: raw body bytes and case-insensitive headers (Flask-like accessors)."""

    def __init__(self, body: bytes, headers):
        self.body = body
        self.headers = headers  # http.client.HTTPMessage: case-insensitive .get()

    def get_data(self, as_text: bool = False):
        return self.body.decode("utf-8") if as_text else self.body

    def get_json(self):
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    # The engine sends a batch concurrently; socketserver's default backlog of 5 would reset connections.
    request_queue_size = 128
    daemon_threads = True


class PythonReceiver:
    """A threaded HTTP server calling `view(request) -> (status, text)` and keeping what it saw."""

    def __init__(self, view: Callable[[Request], tuple[int, str]]):
        self.view = view
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    status, text = receiver.view(Request(body, self.headers))
                except Exception as exc:  # a framework answers 500 when a view raises
                    status, text = 500, f"{type(exc).__name__}: {exc}"
                receiver.received.append({"status": status, "text": text, "headers": dict(self.headers),
                                          "body": body})
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "PythonReceiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class NodeReceiver:
    """`realcast_receiver.js` under the machine's `node`, keyed with `secret`."""

    def __init__(self, secret: str):
        self.secret = secret

    def __enter__(self) -> "NodeReceiver":
        self.proc = subprocess.Popen(
            ["node", str(HERE / "realcast_receiver.js")], env={**os.environ, "WEBHOOK_SECRET": self.secret},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            self.proc.kill()
            raise RuntimeError(f"node receiver did not start: {line}{self.proc.stdout.read()}")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"
        self.url = self.base + "/webhooks/realcast"
        return self

    @property
    def received(self) -> list[dict]:
        with urllib.request.urlopen(self.base + "/received", timeout=5) as response:
            return json.loads(response.read())

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.proc.stdout.close()
