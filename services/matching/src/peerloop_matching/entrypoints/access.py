"""Who may do what with a help request: the rules of the README's table, in one place.

Acting on a request (answer, cancel, confirm, rate) is decided by the aggregate
itself (`NotAllowedError` → 403); reading it is decided here.
"""

from __future__ import annotations

from peerloop_runtime.auth import Forbidden, Principal

from peerloop_matching.domain.help_request import HelpRequest

ASK_RULE = "only a person asks for help, in their own name"
READ_RULE = "a help request is visible to its requester, its proposed helpers and admins"
CANCEL_RULE = "only the requester cancels a help request"
ANSWER_RULE = "only the proposed helper accepts or declines a proposal"
SESSION_RULE = "only the two participants confirm, report or rate a session"
PROGRAMME_RULE = "only an admin creates, reads, previews, adjusts, publishes or closes a programme"
NOT_AGAIN_RULE = "only a person says whom they will not be paired with again, for themselves"


def may_read_requests(caller: Principal) -> None:
    """Before the store is read: a machine reads no one's help requests."""
    if caller.person_id is None and not caller.is_admin:
        raise Forbidden(READ_RULE)


def reader_of(request: HelpRequest, caller: Principal) -> str | None:
    """Whose view of the request the caller gets; None is an admin's (everything)."""
    if caller.is_admin:
        return None
    if caller.person_id is not None and request.is_visible_to(caller.person_id):
        return caller.person_id
    raise Forbidden(READ_RULE)
