"""AUTH: what verifying one bearer token costs with the signing keys already cached.

`python -m bench.auth_tokens [--tokens 2000] [--rounds 7]`, or `python -m bench auth`.
No broker, store or identity provider: an in-memory issuer signs realistic
access tokens (RS256 with a 2048-bit key, and ES256), and `TokenVerifier.verify`
checks each one the way a request does. The yardstick is the bare signature
check of the same token through `cryptography`, in the same run: the ratio is
what parsing, the algorithm and key checks, and the claims cost on top of the
cryptography that cannot be avoided.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc.jwk import ECKey, RSAKey
from peerloop_runtime.auth import TokenVerifier
from peerloop_runtime.auth.testing import LocalIssuer

from bench.report import Results, print_table, verdict

GOAL_RATIO = 2.0
"""The library may at most double the cost of the signature check itself."""


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _bare_check(issuer: LocalIssuer, token: str) -> Callable[[], None]:
    """The signature check alone, on bytes decoded beforehand."""
    head, body, sig = token.split(".")
    signed = f"{head}.{body}".encode()
    signature = _b64decode(sig)
    key = issuer.key
    if isinstance(key, RSAKey):
        public_rsa = key.public_key
        assert isinstance(public_rsa, rsa.RSAPublicKey)
        return lambda: public_rsa.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(key, ECKey)
    public_ec = key.public_key
    assert isinstance(public_ec, ec.EllipticCurvePublicKey)
    half = len(signature) // 2
    der = encode_dss_signature(
        int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    )
    return lambda: public_ec.verify(der, signed, ec.ECDSA(hashes.SHA256()))


def _token(issuer: LocalIssuer) -> str:
    # About the claims of a Keycloak access token for a person.
    return issuer.person_token(
        "ada.lovelace",
        azp="peerloop-web",
        groups=["peerloop-admins", "engineering"],
        scope="openid profile email profiles:read",
        email="ada@peerloop.example",
        name="Ada Lovelace",
        sid="6f1d2c1e-0d57-4c1e-9b0e-2f6a3c9d8e7f",
        exp=int(time.time()) + 3600,
    )


async def _measure_alg(alg: str, tokens: int, rounds: int) -> dict[str, Any]:
    issuer = LocalIssuer(alg=alg)
    token = _token(issuer)
    bare = _bare_check(issuer, token)
    async with TokenVerifier(issuer.settings(), issuer.key_source) as verifier:
        await verifier.verify(token)  # warm: the keys are fetched and cached here
        verify_us: list[float] = []
        bare_us: list[float] = []
        for _ in range(rounds):
            # Interleaved rounds, so drift on a shared machine hits both alike.
            started = time.perf_counter()
            for _ in range(tokens):
                await verifier.verify(token)
            verify_us.append(1e6 * (time.perf_counter() - started) / tokens)
            started = time.perf_counter()
            for _ in range(tokens):
                bare()
            bare_us.append(1e6 * (time.perf_counter() - started) / tokens)
        fetches = verifier.keys.fetches
    verify = statistics.median(verify_us)
    yardstick = statistics.median(bare_us)
    return {
        "alg": alg,
        "token_bytes": len(token),
        "verify_us": verify,
        "signature_us": yardstick,
        "ratio": verify / yardstick,
        "overhead_us": verify - yardstick,
        "key_fetches": fetches,
    }


async def measure(tokens: int = 2000, rounds: int = 7) -> dict[str, Any]:
    rows = [await _measure_alg(alg, tokens, rounds) for alg in ("RS256", "ES256")]
    print_table(
        f"AUTH token verification, warm key cache: median of {rounds} rounds of {tokens}",
        ["alg", "token B", "verify µs", "signature µs", "ratio", "overhead µs", "key fetches"],
        [
            [
                r["alg"],
                r["token_bytes"],
                r["verify_us"],
                r["signature_us"],
                r["ratio"],
                r["overhead_us"],
                r["key_fetches"],
            ]
            for r in rows
        ],
    )
    worst = max(r["ratio"] for r in rows)
    line = verdict(
        "auth", worst, f"≤ {GOAL_RATIO:g}× the bare signature check", worst <= GOAL_RATIO
    )
    return {"rows": rows, "ratio": worst, "verdict": line}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--tokens", type=int, default=2000, help="verifications per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    results = Results()
    results.add("auth", asyncio.run(measure(args.tokens, args.rounds)))
    print(f"\nresults: {results.write()}")


if __name__ == "__main__":
    main()
