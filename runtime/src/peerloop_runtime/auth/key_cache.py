"""The issuer's signing keys, cached, re-fetched when stale or when a token names a new one.

Rules, in the order they matter:
- a fetch happens at most once per `min_refresh_seconds`, however many tokens
  with unknown `kid`s arrive, and concurrent callers share one fetch;
- while a fetch fails, the keys already held keep verifying tokens;
- with no keys at all and the provider unreachable, the answer is
  `IdentityProviderUnavailable` (503), never a 401 the caller cannot fix.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

from peerloop_runtime.auth.errors import IdentityProviderUnavailable, Unauthenticated
from peerloop_runtime.auth.key_source import KeySource, KeySourceUnavailable

log = logging.getLogger("peerloop.auth")


class SigningKeys:
    def __init__(
        self,
        source: KeySource,
        *,
        cache_seconds: float,
        min_refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._cache_seconds = cache_seconds
        self._min_refresh_seconds = min_refresh_seconds
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._last_failed = False
        self._fetches = 0
        self._lock = asyncio.Lock()

    @property
    def fetches(self) -> int:
        """Fetch attempts so far (successful or not)."""
        return self._fetches

    async def key_for(self, kid: str | None) -> Key:
        """The signing key a token's `kid` names (or the only one, if it names none)."""
        if self._keys is None or self._clock() - self._fetched_at >= self._cache_seconds:
            stale = self._find(kid)
            if stale is not None and self._lock.locked():
                return stale  # someone is refreshing: the held key is good meanwhile
            await self._refresh()
            if self._keys is None:
                raise IdentityProviderUnavailable(
                    "the identity provider's signing keys cannot be fetched",
                    retry_after_seconds=self._retry_after(),
                )
        key = self._find(kid)
        if key is None:
            await self._refresh()
            key = self._find(kid)
        if key is not None:
            return key
        if self._last_failed:
            raise IdentityProviderUnavailable(
                "the token's signing key is new and the identity provider cannot be reached",
                retry_after_seconds=self._retry_after(),
            )
        raise Unauthenticated("the token's signing key is unknown")

    def _find(self, kid: str | None) -> Key | None:
        if self._keys is None:
            return None
        try:
            return self._keys.get_by_kid(kid, {"use": "sig"})
        except JoseError:
            return None

    def _retry_after(self) -> int:
        waited = self._clock() - self._attempted_at
        return math.ceil(max(1.0, self._min_refresh_seconds - waited))

    async def _refresh(self) -> None:
        seen = self._fetches
        async with self._lock:
            if self._fetches != seen:
                return  # a fetch finished while we waited: share its result
            if self._clock() - self._attempted_at < self._min_refresh_seconds:
                return
            self._attempted_at = self._clock()
            try:
                keys = KeySet.import_key_set(await self._source.fetch_jwks())  # type: ignore[arg-type]
            except (KeySourceUnavailable, JoseError, ValueError, KeyError, TypeError) as exc:
                self._last_failed = True
                log.warning(
                    "signing keys not fetched (%s); %s",
                    exc,
                    "keeping the ones held" if self._keys else "none held",
                )
            else:
                self._keys = keys
                self._fetched_at = self._clock()
                self._last_failed = False
            finally:
                self._fetches += 1
