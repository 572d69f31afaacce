"""The waiting sweeper: ends waits that are over and tries waiting requests again.

Both times are stored on the request, so a restart loses no timer. People who
appear or change wake the requests they could help at once (`CandidateProjection`);
this sweep covers what comes back without an event: a new week's capacity, a lapsed
hold, the day someone's away period ends.
"""

from __future__ import annotations

import logging

from peerloop_runtime.periodic import Periodic

from peerloop_matching.application.help_requests import HelpRequests

log = logging.getLogger("peerloop.matching.waiting")


def waiting_sweeper(requests: HelpRequests, interval: float) -> Periodic:
    async def sweep() -> str | None:
        ended = await requests.end_waits_due()
        proposed = await requests.recheck_waiting()
        return f"{ended} ended, {proposed} proposed" if ended or proposed else None

    return Periodic("waiting-requests", interval, sweep, log)
