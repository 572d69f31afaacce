"""Names no other test (or earlier run on the same broker and store) has used."""

from __future__ import annotations

import uuid


def unique_name(prefix: str = "", length: int = 10) -> str:
    """`prefix` and `length` random hex digits: a run id, a database or topic name."""
    return f"{prefix}{uuid.uuid4().hex[:length]}"
