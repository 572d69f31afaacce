"""Why the domain refuses a change. The HTTP layer maps each kind to a status code."""

# ruff: noqa: N818 - each name states the verdict; an "Error" suffix adds nothing

from __future__ import annotations


class ProfileError(Exception):
    """A rule of the profiles domain said no."""


class RuleViolation(ProfileError):
    """A value breaks a rule (level out of range, unknown time zone …): bad input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class PersonErased(ProfileError):
    """An erased person accepts no changes."""

    def __init__(self, person_id: str) -> None:
        super().__init__(f"person {person_id} was erased and accepts no changes")
        self.person_id = person_id


class SkillNotOffered(ProfileError):
    def __init__(self, person_id: str, skill_id: str) -> None:
        super().__init__(f"person {person_id} does not offer {skill_id!r}")


class GoalNotSet(ProfileError):
    def __init__(self, person_id: str, skill_id: str) -> None:
        super().__init__(f"person {person_id} has no learning goal for {skill_id!r}")


class SelfTaughtSession(ProfileError):
    """A session whose learner is its own teacher can never be recorded."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} names the same person as learner and teacher")
