"""Who may do what with a profile: the rules of the README's table, in one place.

Every rule is decided from the caller and the path before the store is read, so a
refusal never tells a stranger whether a person exists.
"""

from __future__ import annotations

from peerloop_runtime.auth import Forbidden, Principal

PROVISION_SCOPE = "profiles:provision"
"""HR provisioning (a service account): registers, updates and erases anyone."""

WRITE_RULE = "only the person, an admin or a provisioning service may change a profile"
REGISTER_RULE = (
    "a person registers themself; only an admin or a provisioning service registers others"
)


def manages_everyone(caller: Principal) -> bool:
    return caller.is_admin or PROVISION_SCOPE in caller.scopes


def sees_private_part(caller: Principal, person_id: str) -> bool:
    """E-mail, manager, location, away periods, goals: the person's and admins' only."""
    return caller.person_id == person_id or manages_everyone(caller)


def may_change(caller: Principal, person_id: str) -> None:
    if caller.person_id != person_id and not manages_everyone(caller):
        raise Forbidden(WRITE_RULE)


def may_register(caller: Principal, person_id: str | None) -> str | None:
    """The id to register under (None: a new one)."""
    if manages_everyone(caller):
        return person_id
    if caller.person_id is None or person_id not in (None, caller.person_id):
        raise Forbidden(REGISTER_RULE)
    return caller.person_id


ENDORSE_RULE = "only a signed-in person endorses, for themself, a skill someone taught them"
EVIDENCE_RULE = (
    "only the person, an admin or a provisioning service may read a person's evidence "
    "(it includes how their learners rated them)"
)


def endorser(caller: Principal) -> str:
    """The learner endorsing: the caller themself; a service account cannot have learned."""
    if caller.person_id is None:
        raise Forbidden(ENDORSE_RULE)
    return caller.person_id


def may_read_evidence(caller: Principal, person_id: str) -> None:
    if not sees_private_part(caller, person_id):
        raise Forbidden(EVIDENCE_RULE)


SKILLS_RULE = "only an admin defines, changes or removes the organisation's skills"


def may_define_skills(caller: Principal) -> None:
    """An admin only: a provisioning service manages people, not the catalogue."""
    if not caller.is_admin:
        raise Forbidden(SKILLS_RULE)
