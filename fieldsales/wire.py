"""On the wire: compressed answers, gzip request bodies, conditional GETs (issue 17).

Reps sync on weak, metered mobile data; the console and integrations poll the lists. Three
things, installed by `create_app` through `install`:

- **Compressed answers** (Flask-Compress): JSON and CSV answers of at least
  `COMPRESS_MIN_SIZE` bytes go out gzip-encoded when the client's `Accept-Encoding` allows
  (`COMPRESS_ALGORITHM`; brotli is not worth its CPU here, docs/sync.md), with
  `Vary: Accept-Encoding` on every answer; a client that sends
  no `Accept-Encoding` (or `identity`) gets the plain bytes. Streamed answers (CSV exports)
  are compressed chunk by chunk and stay streamed.
- **gzip request bodies** (`GzipBodies`, a WSGI middleware, so every route and the body
  parsers see plain bytes): a body sent with `Content-Encoding: gzip` is decompressed while
  the route reads it, a bounded step at a time. The size limit (`MAX_CONTENT_LENGTH`) counts
  the DECOMPRESSED bytes, so a gzip bomb is 413 after at most the limit was inflated, never a
  full memory; a body that is not gzip, or ends early, is 400; any other content coding is 415.
- **Conditional GETs** (`_conditional`): every GET 200 JSON answer of the API that is not
  streamed carries a weak `ETag`, a hash of the plain body (so two viewers who see different
  rows get different ETags, and the same body gzipped or not has the same one), and an
  `If-None-Match` that names it gets 304 with no body. Weak, because the gzip and plain bytes
  are the same representation: one validator serves both, and a 304 costs no compression.
  Routes opt out with `without_etag` (the sync pull, whose contract is WatermelonDB's and
  whose every answer carries a fresh timestamp anyway).

Why these homes: one after-request hook rather than flask-smorest's per-route `blp.etag`,
so every list and report, and any route added later, gets ETags without a decorator, and the
ETag is the hash of exactly what this viewer was sent (scope included); one middleware for
gzip bodies rather than the push's parser, so the REST POSTs of integrations get it too and
the limit is counted in one place for every route. CSV exports stream (listing.py), so they
carry no ETag: they are downloads, not what the console polls.
"""
import functools
import hashlib
import zlib

from flask import Flask, Response, current_app, g, request
from flask_compress import Compress
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType

READ_CHUNK = 64 * 1024  # compressed bytes read from the client at a time
_ETAGGED_TYPES = ("application/json",)

compress = Compress()


def install(app: Flask) -> None:
    """Compression of answers, gzip bodies and ETags, in that order of installation: Flask
    runs after-request hooks last-registered first, so the ETag is computed (and a 304
    decided) on the plain body, before Flask-Compress encodes it."""
    compress.init_app(app)  # COMPRESS_REGISTER is off: `_compressed` calls it
    app.after_request(_compressed)
    app.after_request(_conditional)
    # Werkzeug's documented way to wrap the WSGI app, which mypy takes for a method.
    app.wsgi_app = GzipBodies(  # type: ignore[method-assign]
        app.wsgi_app, limit=app.config["MAX_CONTENT_LENGTH"])


# --- compressed answers -----------------------------------------------------------------------

def _compressed(response: Response) -> Response:
    """Flask-Compress's hook, unless the client refuses every algorithm we offer with q=0
    (`gzip;q=0`), which Flask-Compress would take as a choice."""
    offered = current_app.config["COMPRESS_ALGORITHM"]
    if not any(request.accept_encodings.quality(name) > 0 for name in offered):
        response.vary.add("Accept-Encoding")
        return response
    return compress.after_request(response)


# --- conditional GETs -------------------------------------------------------------------------

def without_etag(view):
    """A GET route whose answers carry no ETag and are never answered 304."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        g.fieldsales_without_etag = True
        return view(*args, **kwargs)
    wrapper.without_etag = True  # type: ignore[attr-defined]  # read by the document's 304s
    return wrapper


def body_etag(data: bytes) -> str:
    """The validator of a plain body."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _conditional(response: Response) -> Response:
    if (request.method not in ("GET", "HEAD") or response.status_code != 200
            or response.is_streamed or response.mimetype not in _ETAGGED_TYPES
            or "ETag" in response.headers or g.get("fieldsales_without_etag")
            or not request.path.startswith("/api/")):
        return response
    response.set_etag(body_etag(response.get_data()), weak=True)
    response.make_conditional(request)  # in place: 304 without a body when If-None-Match names it
    return response


# --- gzip request bodies ----------------------------------------------------------------------

class GzipBodies:
    """WSGI middleware: a request body sent with `Content-Encoding: gzip` reaches the app
    decompressed, read lazily through `GunzipStream`, its size limit counting plain bytes."""

    def __init__(self, app, *, limit: int | None):
        self.app, self.limit = app, limit

    def __call__(self, environ, start_response):
        coding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if coding and coding != "identity":
            environ = dict(environ)
            length = environ.pop("CONTENT_LENGTH", "") or None
            environ["wsgi.input"] = GunzipStream(
                environ["wsgi.input"], coding=coding, limit=self.limit,
                compressed_length=int(length) if length and length.isdigit() else None,
                terminated="wsgi.input_terminated" in environ)
            # The plain length is unknown until read: the stream ends itself (Werkzeug then
            # applies MAX_CONTENT_LENGTH to what it reads, and so do we, while inflating).
            environ["wsgi.input_terminated"] = True
            environ["fieldsales.content_encoding"] = environ.pop("HTTP_CONTENT_ENCODING")
        return self.app(environ, start_response)


class GunzipStream:
    """A file-like plain body over a gzip one: each `read(n)` inflates at most n bytes (zlib's
    `max_length`), so memory stays bounded whatever the ratio; past `limit` plain bytes it
    raises 413, on a broken or truncated stream 400, for a coding other than gzip 415."""

    def __init__(self, raw, *, coding: str, limit: int | None, compressed_length: int | None,
                 terminated: bool):
        self.raw, self.coding, self.limit = raw, coding, limit
        # Compressed bytes still to read: the Content-Length, else the server ends the stream.
        self.remaining = compressed_length if compressed_length is not None else (
            None if terminated else 0)
        self.inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing only
        self.pending = b""  # compressed input not yet fed to the inflater
        self.produced = self.consumed = 0
        self.ended = False

    def read(self, size: int = -1) -> bytes:
        if self.coding not in ("gzip", "x-gzip"):
            raise UnsupportedMediaType(
                f"Content-Encoding {self.coding!r} is not accepted; send gzip or no encoding.")
        if size is None or size < 0:
            return b"".join(iter(lambda: self.read(READ_CHUNK), b""))
        out = self._inflate(size)
        self.produced += len(out)
        # At the limit, one byte more means too large. Werkzeug reads at most the limit and
        # would take the body as ending there (a truncated body, not a 413).
        if self.limit is not None and self.produced >= self.limit and (
                self.produced > self.limit or self._inflate(1)):
            raise RequestEntityTooLarge(
                f"The request body is larger than {self.limit} bytes once decompressed.")
        return out

    def _inflate(self, size: int) -> bytes:
        """At most `size` plain bytes (b"" at the end), reading compressed input as needed."""
        out = b""
        while not out and not self.ended and size > 0:
            if not self.pending and not self.inflater.unconsumed_tail:
                self.pending = self._read_raw()
                if not self.pending:
                    # No bytes at all is an empty body (a client that labels every request).
                    if self.consumed and not self.inflater.eof:
                        raise BadRequest("The request body is not complete gzip data.")
                    self.ended = True
                    break
            data = self.inflater.unconsumed_tail or self.pending
            self.pending = b""
            try:
                out = self.inflater.decompress(data, size)
            except zlib.error:
                raise BadRequest("The request body is not valid gzip data.") from None
            if self.inflater.eof:
                if self.inflater.unused_data.strip(b"\0"):
                    raise BadRequest("The request body has data after its gzip stream.")
                self.ended = True
        return out

    def _read_raw(self) -> bytes:
        want = READ_CHUNK if self.remaining is None else min(READ_CHUNK, self.remaining)
        if want <= 0:
            return b""
        data = self.raw.read(want)
        if self.remaining is not None:
            self.remaining -= len(data)
        self.consumed += len(data)
        # gzip never grows data by more than a little: more compressed bytes than the limit
        # (and slack) is too large whatever it inflates to, also if it inflates to nothing.
        if self.limit is not None and self.consumed > self.limit + READ_CHUNK:
            raise RequestEntityTooLarge(f"The request body is larger than {self.limit} bytes.")
        return data
