"""Backoff between delivery attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 2.0
    max_seconds: float = 600.0
    max_attempts: int = 6

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential in the attempts made so far, with jitter so retries of a
        recovered server do not arrive all at once."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(attempt - 1, 0))
        draw = (rng or random).uniform(ceiling / 2, ceiling)
        return float(draw)

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
