"""Settings of the profiles service (`PEERLOOP_*` environment variables).

Against FerretDB set `PEERLOOP_MONGODB_MAX_POOL_SIZE=1` (the test fixtures and
`peerloop up` do): its single-document updates are not atomic between
connections, and the outbox relay and a request often update the same person.
"""

from __future__ import annotations

from peerloop_contracts.runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = 8101
    database: str = "peerloop_profiles"
