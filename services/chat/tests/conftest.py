"""Makes the chat test helpers importable under names no other service uses."""

from __future__ import annotations

import sys
from pathlib import Path

_SUPPORT = str(Path(__file__).parent / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)
