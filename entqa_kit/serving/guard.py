"""ASGI middleware: one log line per request, and the body checks made before any parsing.

``RequestGuard`` reads a request body at most ``max_body_bytes`` long (413 beyond, even when the
client sends no Content-Length), refuses bodies that are not UTF-8 (400), then hands the body on.
Errors are the coded JSON body ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import itertools
import json
import logging
import time

from entqa_kit.core.errors import EntQAError

log = logging.getLogger("entqa_kit.serving")
_ids = itertools.count(1)


def error_payload(error: EntQAError) -> bytes:
    return json.dumps({"error": {"code": error.code, "message": error.message}}, ensure_ascii=False).encode()


async def send_error(send, status: int, error: EntQAError, scope: dict) -> None:
    scope.setdefault("state", {})["error_code"] = error.code
    body = error_payload(error)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    def __init__(self, app, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["request_id"] = request_id = next(_ids)
        clock = time.perf_counter()
        status: dict = {"code": 500, "bytes": 0}

        async def logged_send(message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
            await send(message)

        try:
            body = await self._read_body(scope, receive, logged_send)
            if body is not None:
                status["bytes"] = len(body)
                await self.app(scope, _replay(body, receive), logged_send)
        except Exception as error:  # no traceback reaches the client; the log line says what it was
            state["error_detail"] = f"{type(error).__name__}: {error}"
            log.debug("traceback of request #%d", request_id, exc_info=True)
            if status.get("started"):
                return
            await send_error(logged_send, 500, EntQAError("E131", request_id=f"#{request_id}"), scope)
        finally:
            seconds = time.perf_counter() - clock
            client = scope.get("client") or ("-", 0)
            detail = state.get("error_detail")
            log.info(
                "#%d %s %s %s %s %dB %s %.3fs%s",
                request_id,
                client[0],
                scope["method"],
                scope["path"],
                status["code"],
                status["bytes"],
                state.get("error_code", "-"),
                seconds,
                f" ({detail})" if detail else "",
            )

    async def _read_body(self, scope, receive, send) -> bytes | None:
        """The whole body, or None after answering 413 (too large) or 400 (not UTF-8)."""
        limit = self.max_body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await send_error(send, 413, EntQAError("E120", limit=limit), scope)
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_error(send, 413, EntQAError("E120", limit=limit), scope)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            detail = f"byte 0x{body[exc.start]:02x} at offset {exc.start}"
            await send_error(send, 400, EntQAError("E123", detail=detail), scope)
            return None
        return body


def _replay(body: bytes, receive):
    """A receive that yields the body once, then waits on the client as the original does."""
    sent = False

    async def replayed():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
