"""One delivery on the wire: the SSRF guard, the Standard Webhooks signature, and the POST.

The guard (`check_url`) refuses a URL that is not http(s), or whose host resolves to an
address that is not global (loopback, private, link-local, shared, reserved, multicast),
unless WEBHOOKS_ALLOWED_HOSTS names its host, one of its addresses or a network holding it.
It runs when a subscription is saved and again before every attempt (a name may resolve
elsewhere by then), and the POST connects to the very address it checked, so a DNS answer
that changes between the check and the connect cannot reach a refused address. Redirects
are not followed (a 3xx is a failed attempt): a redirect could point anywhere.
"""
import http.client
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app
from standardwebhooks.webhooks import Webhook

USER_AGENT = "fieldsales-webhooks/1"
RESPONSE_READ_LIMIT = 64 * 1024  # bytes of an answer read (and dropped) at most


class RefusedUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the POST connects to


def _allowed(host: str, address: str, allowed: list[str]) -> bool:
    ip = ipaddress.ip_address(address)
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry == host.lower():
            return True
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_url(url: str) -> Target:
    """The URL's target, or RefusedUrl saying why it may not receive webhooks."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedUrl("Must be an http or https URL.")
    if not parts.hostname:
        raise RefusedUrl("The URL names no host.")
    if parts.username or parts.password:
        raise RefusedUrl("Credentials in the URL are not accepted (they would be logged); "
                         "verify the signature instead.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RefusedUrl("The URL's port is not a number from 1 to 65535.") from None
    host = parts.hostname
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedUrl(f"The host '{host}' does not resolve.") from None
    allowed = current_app.config["WEBHOOKS_ALLOWED_HOSTS"]
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if (not ip.is_global or ip.is_multicast) and not _allowed(host, str(ip), allowed):
            raise RefusedUrl(
                f"The host '{host}' resolves to {ip}, which is not a public address "
                "(loopback, private, link-local or reserved). To deliver there, name it in "
                "the WEBHOOKS_ALLOWED_HOSTS setting.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port, path=path,
                  address=addresses[0].split("%")[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the name resolves to now."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above, with TLS for the URL's host name (its certificate is checked)."""

    def __init__(self, target: Target, timeout: float):
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def body_of(*, event_type: str, occurred_at: int, data: dict) -> str:
    """The JSON body the Standard Webhooks spec recommends: type, timestamp, data."""
    timestamp = datetime.fromtimestamp(occurred_at / 1000, UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data},
                      separators=(",", ":"), sort_keys=True)


def signed_headers(*, secret: str, message_id: str, body: str, at: datetime) -> dict:
    return {"webhook-id": message_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, at, body),
            "content-type": "application/json", "user-agent": USER_AGENT}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    response_code: int | None
    duration_ms: int
    error: str | None


def post(*, url: str, secret: str, message_id: str, body: str) -> Outcome:
    """One signed POST; a 2xx is success. Never raises: every failure is an Outcome."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = check_url(url)
    except RefusedUrl as refused:
        return Outcome(False, None, took(), f"Refused: {refused}")
    timeout = current_app.config["WEBHOOKS_TIMEOUT_SECONDS"]
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, timeout)
    headers = signed_headers(secret=secret, message_id=message_id, body=body,
                             at=datetime.now(UTC))
    try:
        connection.request("POST", target.path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_LIMIT)
        code = response.status
    except TimeoutError:
        return Outcome(False, None, took(), f"No answer within {timeout:g} s (timed out).")
    except (OSError, http.client.HTTPException) as error:
        return Outcome(False, None, took(), f"{type(error).__name__}: {error}"[:500])
    finally:
        connection.close()
    if 200 <= code < 300:
        return Outcome(True, code, took(), None)
    return Outcome(False, code, took(), f"HTTP {code}" + (
        " (redirects are not followed)" if 300 <= code < 400 else ""))
