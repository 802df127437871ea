"""HTTP with the standard library: one kept-alive connection, JSON bytes in and out."""
from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


class BenchError(RuntimeError):
    """The run cannot go on (server did not start, the world could not be built)."""


class TransportError(Exception):
    """No HTTP answer: refused, reset, timed out."""


class GiveUp(Exception):
    """A request kept failing for longer than the phone retries."""


@dataclass
class Reply:
    status: int
    data: bytes
    ms: float

    @property
    def json(self):
        try:
            return json.loads(self.data)
        except ValueError:
            return None

    def excerpt(self) -> str:
        return self.data[:300].decode("utf-8", "replace")


class Http:
    """One connection to the server (kept alive when the server allows), JSON bytes in/out."""

    def __init__(self, base_url: str, timeout: float):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> Reply:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        start = time.perf_counter()
        try:
            self.conn.request(method, self.prefix + path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise TransportError(f"{type(error).__name__}: {error}") from None
        return Reply(response.status, data, (time.perf_counter() - start) * 1000)

    def abandon(self, method: str, path: str, body: bytes, headers: dict, after_s: float) -> None:
        """Send a request and hang up before reading the answer (a client-side timeout)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=5)
        try:
            conn.request(method, self.prefix + path, body=body, headers=headers)
            time.sleep(after_s)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
