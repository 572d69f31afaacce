import httpx
from peerloop_web.service_api import TRY_AGAIN, error_from


def _answer(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_a_422_names_the_fields_so_the_page_can_mark_them():
    error = error_from(
        _answer(
            422,
            {
                "detail": [
                    {"loc": ["body", "email"], "msg": "value is not a valid email address"},
                    {"loc": ["body", "task"], "msg": "Value error, must not be blank"},
                ]
            },
        )
    )
    assert error.fields == {
        "email": "value is not a valid email address",
        "task": "must not be blank",
    }
    assert not error.temporary


def test_a_503_says_try_again_in_a_moment_and_when():
    error = error_from(_answer(503, {"detail": "unknown requester"}, {"Retry-After": "2"}))
    assert error.temporary
    assert error.message == TRY_AGAIN
    assert error.retry_after == 2.0


def test_other_refusals_become_a_sentence():
    assert "no longer exists" in error_from(_answer(404, {"detail": "x"})).message
    assert "changed" in error_from(_answer(409, {"detail": "stale version"})).message
    assert "may not" in error_from(_answer(403, {"detail": "only the requester"})).message
