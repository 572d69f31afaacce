"""The expiry sweeper: proposals nobody answered move on to the next helper.

The expiry time is stored on the request, so a restart loses no timer: the
first sweep after it finds every proposal that expired while the service was down.
"""

from __future__ import annotations

import logging

from peerloop_runtime.periodic import Periodic

from peerloop_matching.application.help_requests import HelpRequests

log = logging.getLogger("peerloop.matching.expiry")


def expiry_sweeper(requests: HelpRequests, interval: float) -> Periodic:
    async def sweep() -> str | None:
        moved = await requests.expire_due()
        return f"moved {moved} expired proposal(s) on" if moved else None

    return Periodic("proposal-expiry", interval, sweep, log)
