"""A real HTTP receiver on localhost for the webhook tests: it verifies each delivery's
Standard Webhooks signature with the subscription's secret, as a customer's endpoint would,
and keeps what it got. `mode`: "ok" (200), "fail" (500), "hang" (answers only when
`release` is set, or after 30 s)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Receiver:
    def __init__(self):
        self.mode = "ok"
        self.secret: str | None = None
        self.received: list[dict] = []  # each delivery: id, headers, body, verified
        self.handled: set[str] = set()  # webhook-ids acted upon once (the receiver dedupes)
        self.arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = False
                if receiver.secret:
                    try:
                        Webhook(receiver.secret).verify(body, headers)
                        verified = True
                    except WebhookVerificationError:
                        pass
                receiver.received.append({"id": headers.get("webhook-id"), "headers": headers,
                                          "body": json.loads(body), "verified": verified})
                receiver.arrived.set()
                if receiver.mode == "hang":
                    receiver.release.wait(30)
                status = 500 if receiver.mode == "fail" else 200
                if status == 200 and verified:
                    receiver.handled.add(headers.get("webhook-id"))
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/fieldsales"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
