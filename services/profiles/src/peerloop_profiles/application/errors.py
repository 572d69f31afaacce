"""Why a use case could not run, besides the domain's own refusals."""

# ruff: noqa: N818 - each name states the verdict; an "Error" suffix adds nothing

from __future__ import annotations


class ApplicationError(Exception):
    pass


class PersonNotFound(ApplicationError):
    def __init__(self, person_id: str) -> None:
        super().__init__(f"no person {person_id}")
        self.person_id = person_id


class AlreadyRegistered(ApplicationError):
    def __init__(self, person_id: str) -> None:
        super().__init__(f"person {person_id} is already registered")


class VersionConflict(ApplicationError):
    """The person changed since the client read it; nothing was written."""

    def __init__(self, person_id: str, expected: int, actual: int | None) -> None:
        now = f"it is now at version {actual}" if actual is not None else "it changed meanwhile"
        super().__init__(
            f"person {person_id} is not at version {expected}: {now}; read it again and retry"
        )
        self.expected = expected
        self.actual = actual


class EntryNotFound(ApplicationError):
    def __init__(self, kind: str, entry_id: str) -> None:
        super().__init__(f"no {kind} {entry_id}")


class NameTaken(ApplicationError):
    """Another provisioned user has this userName, or group this name (case-insensitively)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the name {name!r} is taken")


class StaleEntry(ApplicationError):
    """The entry changed since the version the identity system sent (If-Match)."""

    def __init__(self, entry_id: str, expected: int, actual: int) -> None:
        super().__init__(f"{entry_id} is at version {actual}, not {expected}")


class NotTaughtBy(ApplicationError):
    """Only a learner the helper taught the skill in a completed session may endorse it."""

    def __init__(self, learner_id: str, helper_id: str, skill_id: str) -> None:
        super().__init__(
            f"{learner_id} had no completed session with {helper_id} on {skill_id!r}: only a "
            "learner taught the skill by that person may endorse it"
        )


class SelfEndorsement(ApplicationError):
    def __init__(self, person_id: str) -> None:
        super().__init__(f"{person_id} cannot endorse their own skill")


class SkillNotDefined(ApplicationError):
    def __init__(self, skill_id: str) -> None:
        super().__init__(f"the organisation has no definition of the skill {skill_id!r}")


class SkillNameTaken(ApplicationError):
    """Another definition stored meanwhile holds one of the names (a race of two admins)."""

    def __init__(self, skill_id: str) -> None:
        super().__init__(
            f"a name or alias of {skill_id!r} was just given to another skill; read it again"
        )


class SkillChanged(ApplicationError):
    """The definition changed since the version the admin sent (or while it was written)."""

    def __init__(self, skill_id: str, expected: int, actual: int | None) -> None:
        now = f"it is now at version {actual}" if actual is not None else "it changed meanwhile"
        super().__init__(f"skill {skill_id!r} is not at version {expected}: {now}")
