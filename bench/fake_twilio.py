"""A local stand-in for Twilio's Messages API, so the outbox has somewhere to send in a bench.

In a process of its own, keeping connections alive as Twilio does: inside the load generator's
process its threads took the interpreter lock from the generator's event loop and inflated the
latencies the generator measures, and a new connection per message cost both sides CPU the
real service never costs this machine.
"""

import json
import multiprocessing
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Messages(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as api.twilio.com

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"sid": f"SM{uuid.uuid4().hex}", "status": "queued"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _serve(port_out) -> None:  # noqa: ANN001 (a multiprocessing queue)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Messages)
    server.daemon_threads = True
    port_out.put(server.server_address[1])
    server.serve_forever()


class StandIn:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        port_out = context.Queue()
        self._process = context.Process(target=_serve, args=(port_out,), daemon=True)
        self._process.start()
        self.url = f"http://127.0.0.1:{port_out.get(timeout=60)}"

    @property
    def pid(self) -> int:
        return self._process.pid or 0

    def shutdown(self) -> None:
        self._process.terminate()
        self._process.join(timeout=10)
