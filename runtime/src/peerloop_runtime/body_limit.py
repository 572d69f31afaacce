"""A cap on request bodies: 413 beyond it, whether or not the client sent Content-Length.

A declared length over the cap is refused before anything is read; a chunked body is
counted as it arrives by Starlette's limiter and refused at the first byte over the
cap, so no oversized body is held in memory or reaches a model or the broker.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 262_144
"""256 KiB: many times the largest valid request body, far below the broker's record limit."""


def _refusal(max_body_bytes: int) -> JSONResponse:
    return JSONResponse(
        {"detail": f"the request body is larger than {max_body_bytes} bytes"}, status_code=413
    )


class BodyLimit:
    """Refuses a declared Content-Length over the cap; Starlette's limiter counts the rest."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.counted = RequestBodyLimitMiddleware(app, max_body_size=max_body_bytes)
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body_bytes:
                await _refusal(self.max_body_bytes)(scope, receive, send)
                return
        await self.counted(scope, receive, send)


def limit_request_bodies(app: FastAPI, max_body_bytes: int) -> None:
    app.add_middleware(BodyLimit, max_body_bytes=max_body_bytes)

    async def too_large(request: Request, exc: Exception) -> Response:
        # Starlette's limiter raises a 413 HTTPException when a counted body overflows.
        assert isinstance(exc, HTTPException)
        if exc.status_code != 413:
            return await http_exception_handler(request, exc)
        return _refusal(max_body_bytes)

    app.add_exception_handler(HTTPException, too_large)
