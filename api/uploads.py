"""Receive a multipart upload straight to storage, counting bytes as they arrive.

The `file` part is written to `<uploads>/<random>.part` while it streams in (never spooled
elsewhere first), and hashed on the way when the caller needs its digest (an Idempotency-Key's
fingerprint); past the size cap the request ends with 413 and the partial file is removed, so
nothing is left on disk; the same happens past the principal's stored-bytes quota
(`api.upload_quota`). One that would leave the disk under its free-space floor, or that the
disk has no room for, is 507 `storage_full` (`api.disk_floor`). The other parts a job reads
are small text fields; a part of another name is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

import anyio
from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect

from api.disk_floor import DISK_FULL, DiskFloor, disk_full
from api.errors import ApiError
from api.upload_quota import UploadQuota
from jobcast.schemas.text import without_hidden
from jobcast.storage_paths import UPLOAD_PARTIAL_SUFFIX, new_upload_name, partial_path

log = logging.getLogger("jobcast.api")

#: The routes that take an upload (`POST`): the seed's path is an alias of the first. Their
#: bodies may stream for hours, under JOBCAST_UPLOAD_IDLE_TIMEOUT rather than the body deadline.
SUBMIT_PATH = "/jobs"
SEED_SUBMIT_PATH = "/tasks/process-file/"
UPLOAD_PATHS = frozenset({SUBMIT_PATH, SEED_SUBMIT_PATH})
#: Largest text part (e.g. `params`), so fields cannot fill memory (nor can their number: each
#: name a job reads comes once, and other names are refused).
MAX_FIELD_BYTES = 64 * 1024
#: The text parts a job reads, each at most once (`file_path` only to refuse it with a hint).
#: A part of any other name is refused: a misspelt `Params` ignored ran the job on defaults.
READ_FIELDS = frozenset({"params", "file_path"})
#: The part names a client is told to send.
PART_NAMES = ("file", "params")
#: Multipart framing allowed beyond the file cap when checking Content-Length up front.
FRAMING_SLACK = 64 * 1024


@dataclass
class Upload:
    """What was received: the stored file's server-generated name, its size and hash (when asked
    for; else empty), the fields."""

    stored: str = ""
    size: int = 0
    sha256: str = ""
    filename: str = ""
    fields: dict[str, str] = field(default_factory=dict)


#: The seed's way of naming a file on the server: refused, the client uploads it instead.
FILE_PATH_REFUSED = ApiError(
    422,
    "upload_required",
    "Server paths are not accepted: upload the file itself as the multipart part `file`.",
)


def too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The file is larger than {limit} bytes, the cap.")


def stalled(idle_s: float) -> ApiError:
    return ApiError(
        408,
        "upload_stalled",
        f"The upload sent no bytes for {idle_s:g} s and was cut; nothing of it was kept: "
        "send it again.",
        {"idle_timeout_s": idle_s},
    )


def unknown_part(name: str) -> ApiError:
    """A part no job reads: refused before its data is read, naming what to send instead."""
    accepted = " and ".join(f"`{n}`" for n in PART_NAMES)
    meant = next((n for n in PART_NAMES if _spelling(n) == _spelling(name)), None)
    hint = f"did you mean `{meant}`? " if meant else ""
    which = f"Unknown multipart part `{name}`" if name else "A multipart part without a name"
    return ApiError(
        422,
        "validation_error",
        f"{which}: {hint}a job reads only the parts {accepted}.",
        [{"field": name, "problem": f"unknown part; send {accepted}", "type": "unknown_part"}],
    )


def _spelling(name: str) -> str:
    """A part name less what near misses add: case, spaces, a plural `s` (`Params`, `param`,
    `files`)."""
    squeezed = "".join(name.split()).lower()
    return squeezed.removesuffix("s")


#: A `file` form field (no filename) up to this long, on one line, is taken for a mistake.
FIELD_TEXT_LIMIT = 4096


def _refuse_a_mistaken_field(text: bytearray | None) -> None:
    """422 for a `file` part sent as a short one-line form field, not a file: `curl -F
    file=sales.csv` (without the `@`) sends the name, and the job failed as `no_rows`. Text
    on several lines is taken as the table (`curl -F 'file=<sales.csv'` sends one so)."""
    if text is None or len(text) > FIELD_TEXT_LIMIT or b"\n" in text or b"\r" in text:
        return
    shown = without_hidden(text.decode("utf-8", "replace"))[:80]
    raise ApiError(
        422,
        "file_required",
        f"The `file` part is a form field holding {shown!r}, not a file: upload the file "
        "itself (with curl, `-F file=@path/to/table.csv`).",
    )


class _Receiver:
    """python-multipart callbacks that write the `file` part to disk and keep the rest."""

    def __init__(self, directory: Path, max_bytes: int, digest: bool) -> None:
        self.directory, self.max_bytes = directory, max_bytes
        self.upload = Upload()
        self.partial: Path | None = None
        self._out: BinaryIO | None = None
        # SHA-256 of a large upload costs about 0.6 ms of CPU a MB, a third of receiving it:
        # paid only when the digest is used.
        self._hash = hashlib.sha256() if digest else None
        self._headers: dict[str, bytes] = {}
        #: The start of a `file` part sent without a filename (a plain form field), to tell a
        #: table's text from a mistaken one (`-F file=sales.csv`, the path and not the file).
        self._field_text: bytearray | None = None
        self._header_field = self._header_value = b""
        self._name, self._text = "", bytearray()
        self.ended = False
        #: Bytes received after the closing boundary (the parser drops them).
        self.epilogue = 0

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._field,
            "on_header_value": self._value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _begin(self) -> None:
        self._headers, self._name, self._text = {}, "", bytearray()

    def _field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = self._header_value
        self._header_field = self._header_value = b""

    def _headers_done(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if self._name != "file" and self._name not in READ_FIELDS:
            raise unknown_part(self._name)
        if self._name == "file":
            if self._out is not None:
                raise ApiError(422, "validation_error", "Send exactly one `file` part.")
            # Shown back in lists, the app and terminals: without escapes or bidi overrides.
            sent = options.get(b"filename", b"").decode("utf-8", "replace")
            self.upload.filename = without_hidden(sent)[:255]
            self._field_text = None if b"filename" in options else bytearray()
            self.upload.stored = new_upload_name()
            self.partial = partial_path(self.directory / self.upload.stored, UPLOAD_PARTIAL_SUFFIX)
            self._out = _create(self.partial)

    def _data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._name != "file":
            self._text += chunk
            if len(self._text) > MAX_FIELD_BYTES:
                raise ApiError(
                    413,
                    "payload_too_large",
                    f"Field `{self._name}` is larger than {MAX_FIELD_BYTES // 1024} KiB.",
                )
            return
        self.upload.size += len(chunk)
        if self.upload.size > self.max_bytes:
            raise too_large(self.max_bytes)
        if self._hash is not None:
            self._hash.update(chunk)
        if self._field_text is not None and len(self._field_text) <= FIELD_TEXT_LIMIT:
            self._field_text += chunk[: FIELD_TEXT_LIMIT + 1]
        assert self._out is not None
        self._out.write(chunk)

    def _part_end(self) -> None:
        if self._name != "file":
            if self._name in READ_FIELDS and self._name in self.upload.fields:
                # Which one was meant? Say so rather than take the last.
                raise ApiError(422, "validation_error", f"Send exactly one `{self._name}` part.")
            self.upload.fields[self._name] = self._text.decode("utf-8", "replace")

    def _end(self) -> None:
        self.ended = True

    def after_end(self, size: int) -> None:
        """Count `size` bytes received after the closing boundary toward the size cap: dropped
        unread, a chunked body could stream them for good, holding one of its owner's upload
        slots."""
        self.epilogue += size
        if self.upload.size + self.epilogue > self.max_bytes:
            raise too_large(self.max_bytes)

    def finish(self) -> Upload:
        if not self.ended:
            # A body cut short (no closing boundary) must not become a job on half a file.
            raise ApiError(
                400, "bad_request", "The multipart body ended before its closing boundary."
            )
        if self._out is None or self.partial is None:
            if "file_path" in self.upload.fields:
                raise FILE_PATH_REFUSED
            raise ApiError(
                422, "file_required", "Upload the table as a multipart part named `file`."
            )
        self._out.close()
        _refuse_a_mistaken_field(self._field_text)
        os.replace(self.partial, self.directory / self.upload.stored)
        self.upload.sha256 = self._hash.hexdigest() if self._hash is not None else ""
        return self.upload

    async def discard(self) -> None:
        # No file opened, none to remove: its open may have failed for want of file descriptors,
        # when even anyio's first thread hop (it imports its backend) would fail again.
        if self._out is None or self.partial is None:
            return
        # Its buffer's last flush fails again on a full disk: the file is closed all the same.
        with contextlib.suppress(OSError):
            self._out.close()
        await remove_file(self.partial)


async def remove_file(path: Path) -> None:
    """Remove an upload, stored or partial, on a worker thread: unlinking a large file frees
    its blocks, and on the event loop every request and WebSocket of the process would wait
    for it (a 1 GB file took 0.37-0.87 s here). Shielded, so a request cancelled meanwhile (its
    client gone) still removes it."""
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(partial(path.unlink, missing_ok=True))


#: The errors of an open() refused because the process (or the system) has no file left.
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)


def _create(path: Path) -> BinaryIO:
    """A new file at `path`, or a 503 when no file can be opened now: a passing state (too many
    connections held open), not the server's fault to report as a 500."""
    try:
        return _open_new(path)
    except OSError as exc:
        if exc.errno not in OUT_OF_DESCRIPTORS:
            raise
        log.warning("an upload could not open its file: %s", exc)
        raise ApiError(
            503,
            "unavailable",
            "The server has too many files open to store an upload right now; retry shortly.",
            headers={"Retry-After": "5"},
        ) from None


def _open_new(path: Path) -> BinaryIO:
    """Its directory is made only when missing (the first upload, or a storage volume emptied
    meanwhile), not checked on every upload: that was a thread hop each."""
    try:
        return path.open("xb")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("xb")


#: RFC 2046's limit; python-multipart refuses past 256 with an error of its own.
MAX_BOUNDARY = 70


def boundary_of(request: Request) -> bytes:
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data":
        raise ApiError(
            415,
            "unsupported_media_type",
            "Send the table as multipart/form-data with a part named `file`.",
        )
    if not options.get(b"boundary"):
        raise ApiError(
            400,
            "bad_request",
            "The multipart/form-data Content-Type names no boundary. Let your HTTP client "
            "write the header (curl -F file=@data.csv).",
        )
    boundary: bytes = options[b"boundary"]
    if len(boundary) > MAX_BOUNDARY:
        raise ApiError(
            400,
            "bad_request",
            f"The multipart boundary is {len(boundary)} characters; at most {MAX_BOUNDARY} "
            "(RFC 2046). Let your HTTP client choose it (curl -F file=@data.csv).",
        )
    return boundary


def declared_length(request: Request, max_bytes: int) -> int | None:
    declared = request.headers.get("content-length")
    if not (declared and declared.isdigit()):
        return None
    if int(declared) > max_bytes + FRAMING_SLACK:
        raise too_large(max_bytes)
    return int(declared)


#: The start of python-multipart's messages for a part over its header limits.
_HEADER_TOO_LONG = "Maximum header size exceeded"
_TOO_MANY_HEADERS = "Maximum header count exceeded"


def parse_error(exc: MultipartParseError, parser: MultipartParser) -> ApiError:
    """The answer to a body the parser gave up on: a part's headers over its limits said as
    such (a long file name is in one), stating the limit the parser enforces; else generic."""
    said = str(exc)
    if said.startswith(_HEADER_TOO_LONG):
        limit = parser.max_header_size
        return ApiError(
            400,
            "bad_request",
            f"A multipart part's header line is longer than {limit} bytes, the limit: its "
            "Content-Disposition carries the part's filename, so send the file under a shorter "
            "name (at most 255 characters are kept anyway).",
            {"max_header_bytes": limit},
        )
    if said.startswith(_TOO_MANY_HEADERS):
        limit = parser.max_header_count
        return ApiError(
            400,
            "bad_request",
            f"A multipart part has more than {limit} header lines, the limit: send only its "
            "Content-Disposition and Content-Type.",
            {"max_header_count": limit},
        )
    return ApiError(
        400,
        "bad_request",
        "The body is not valid multipart/form-data: send the file as a form part named "
        "`file` (curl -F file=@data.csv).",
    )


async def _chunks(request: Request, idle_s: float) -> AsyncIterator[bytes]:
    """The body's chunks; 408 once none has come for `idle_s`. A stalled upload kept open held
    its socket and partial file for good, and its slot expired under it: the cap on uploads in
    progress counted none of them."""
    stream = request.stream().__aiter__()
    while True:
        try:
            # asyncio's own timeout: a third of anyio's cost, paid once per chunk.
            async with asyncio.timeout(idle_s):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise stalled(idle_s) from None
        yield chunk


async def receive_upload(
    request: Request,
    directory: Path,
    max_bytes: int,
    quota: UploadQuota,
    disk: DiskFloor,
    idle_s: float,
    digest: bool = True,
) -> Upload:
    """Stream the request's multipart body to `directory`; 413 past `max_bytes` or the quota,
    507 under the `disk` floor, 408 after `idle_s` without a byte. With `digest`, the file's
    SHA-256 is in `Upload.sha256`.

    The quota's reservation stays held (as the stored upload's) when this returns; on any
    failure the partial file is removed and the caller releases the reservation."""
    boundary = boundary_of(request)
    declared = declared_length(request, max_bytes)
    disk.admit(declared)
    await quota.begin(declared)
    receiver = _Receiver(directory, max_bytes, digest)
    parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in _chunks(request, idle_s):
            if receiver.ended:
                receiver.after_end(len(chunk))
                continue
            parser.write(chunk)
            disk.watch(receiver.upload.size)
            await quota.cover(receiver.upload.size)
        parser.finalize()
        return receiver.finish()
    except ClientDisconnect:
        # Nobody reads this answer; it keeps the access log and the metrics from calling it
        # a server error (it was logged as one, with a traceback).
        await receiver.discard()
        raise ApiError(
            400, "bad_request", "The upload ended before its last byte: send it again."
        ) from None
    except MultipartParseError as exc:
        await receiver.discard()
        raise parse_error(exc, parser) from exc
    except OSError as exc:
        await receiver.discard()
        if exc.errno in DISK_FULL:  # was a 500, unlike the floor's answer
            raise disk_full() from exc
        raise
    except BaseException:
        await receiver.discard()
        raise
