"""Request size limits, applied before a body is read (a pure ASGI middleware).

FastAPI reads a whole multipart upload before a route runs, so a route's own size check only
stops the work, not the transfer. Here a declared ``Content-Length`` over the route's limit is
refused at once, and a body without one (chunked) is counted as it arrives and cut off at the
limit, with an RFC 9457 problem either way. The routes keep their own exact checks.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import PROBLEM_JSON
from app.routers.cases import MAX_ATTACHMENT_BYTES
from app.routers.jobs import MAX_UPLOAD_BYTES

# JSON bodies (triage, cases, exports) are small; uploads name their own limits.
DEFAULT_LIMIT = 1024 * 1024
MULTIPART_MARGIN = 64 * 1024  # boundaries and part headers around the file
LIMITS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"^/api/v1/jobs/loads$"), MAX_UPLOAD_BYTES + MULTIPART_MARGIN),
    (re.compile(r"^/api/v1/cases/[^/]+/attachments$"), MAX_ATTACHMENT_BYTES + MULTIPART_MARGIN),
]


def limit_for(path: str) -> int:
    for pattern, limit in LIMITS:
        if pattern.match(path):
            return limit
    return DEFAULT_LIMIT


class BodyLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        declared = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, limit)
            return
        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            # Over the limit, answer 413 ourselves and tell the app the client has gone, so
            # it stops reading (raising here would reach the app as a malformed body, a 400).
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > limit and not started:
                    refused = True
                    await _refuse(scope, send, limit)
            return {"type": "http.disconnect"} if refused else message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app says after it is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)


async def _refuse(scope: Scope, send: Send, limit: int) -> None:
    state = scope.get("state", {})
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": f"this endpoint accepts at most {limit} bytes",
            "instance": scope["path"],
            "request_id": state.get("request_id"),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
