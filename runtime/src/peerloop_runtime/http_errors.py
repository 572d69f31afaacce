"""Domain refusals as HTTP answers, declared once per service as a table.

Each service lists its error types with the status they answer; `install_refusals`
registers them on the app. The most specific type listed wins (Starlette walks the
exception's MRO), so a base class can stand for "every other refusal". The body is
`{"detail": message}`; an `Answer` may shape the detail (a 422 naming the field) or
add headers (a 503's Retry-After).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def _no_headers(_exc: Any) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class Answer:
    status: int
    detail: Callable[[Any], Any] = str
    """The `detail` of the body, from the exception; its message by default."""
    headers: Callable[[Any], Mapping[str, str]] = field(default=_no_headers)


Refusals = Mapping[type[Exception], int | Answer]


def field_error(loc: Sequence[str], message: str, kind: str) -> list[dict[str, Any]]:
    """A detail shaped like FastAPI's own 422, so clients read one format."""
    return [{"loc": list(loc), "msg": message, "type": kind}]


def install_refusals(app: FastAPI, refusals: Refusals) -> None:
    for kind, how in refusals.items():
        answer = how if isinstance(how, Answer) else Answer(how)
        app.add_exception_handler(kind, _answering(answer))


def _answering(answer: Answer) -> Callable[[Request, Exception], Any]:
    async def refused(_request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": answer.detail(exc)},
            status_code=answer.status,
            headers=dict(answer.headers(exc)),
        )

    return refused
