"""The delivery state machine: every move, allowed or refused, from every state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from peerloop_notifications.domain.delivery import (
    FINAL,
    TRANSITIONS,
    Delivery,
    DeliveryState,
    InvalidTransitionError,
    Lease,
    gives_up,
)
from peerloop_notifications.domain.retry import Backoff

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
P, SE, ST, F, SK = (
    DeliveryState.PENDING,
    DeliveryState.SENDING,
    DeliveryState.SENT,
    DeliveryState.FAILED,
    DeliveryState.SKIPPED,
)


def in_state(
    state: DeliveryState, *, owner: str = "w1", lease_ends: datetime | None = None
) -> Delivery:
    if state is SE:
        return Delivery(
            state=SE, attempts=1, next_attempt_at=NOW, lease=Lease(owner, lease_ends or NOW + LEASE)
        )
    return Delivery(state=state, attempts=0 if state is P else 1, next_attempt_at=NOW)


MOVES = {
    "claimed": lambda d: d.claimed("w2", NOW + 2 * LEASE, LEASE, attempt=d.attempts + 1),
    "sent": lambda d: d.sent("w1", NOW),
    "failed": lambda d: d.failed("w1", NOW, "smtp 550"),
    "skipped": lambda d: d.skipped("w1", NOW, "email switched off"),
    "rescheduled": lambda d: d.rescheduled("w1", NOW + LEASE, "smtp 451"),
}
TARGET = {"claimed": SE, "sent": ST, "failed": F, "skipped": SK, "rescheduled": P}


@pytest.mark.parametrize("state", list(DeliveryState))
@pytest.mark.parametrize("move", list(MOVES))
def test_each_move_from_each_state_follows_the_table(state: DeliveryState, move: str) -> None:
    delivery = in_state(state)  # a sending one's lease has run out by the time `claimed` runs
    allowed = TARGET[move] in TRANSITIONS[state]
    if allowed:
        moved = MOVES[move](delivery)
        assert moved.state is TARGET[move]
        assert (moved.lease is not None) == (moved.state is SE)
    else:
        with pytest.raises(InvalidTransitionError):
            MOVES[move](delivery)


def test_final_states_lead_nowhere() -> None:
    assert {ST, F, SK} == FINAL


@pytest.mark.parametrize(
    ("delivery", "due"),
    [
        (Delivery(next_attempt_at=NOW), True),
        (Delivery(next_attempt_at=NOW + timedelta(seconds=1)), False),
        (in_state(SE, lease_ends=NOW - timedelta(seconds=1)), True),
        (in_state(SE, lease_ends=NOW), False),
        (in_state(SE, lease_ends=NOW + LEASE), False),
        (in_state(ST), False),
        (in_state(F), False),
        (in_state(SK), False),
    ],
)
def test_due_when_pending_and_its_time_came_or_when_a_senders_lease_ran_out(
    delivery: Delivery, due: bool
) -> None:
    assert delivery.is_due(NOW) is due


def test_a_claim_takes_a_new_attempt_number_and_a_lease() -> None:
    claimed = Delivery(next_attempt_at=NOW).claimed("w1", NOW, LEASE, attempt=1)
    assert (claimed.state, claimed.attempts, claimed.lease) == (SE, 1, Lease("w1", NOW + LEASE))
    with pytest.raises(InvalidTransitionError, match="attempt already made"):
        Delivery(next_attempt_at=NOW, attempts=2).claimed("w1", NOW, LEASE, attempt=2)
    with pytest.raises(InvalidTransitionError, match="not due"):
        Delivery(next_attempt_at=NOW + LEASE).claimed("w1", NOW, LEASE, attempt=1)
    # While its lease holds, nobody else takes it over.
    with pytest.raises(InvalidTransitionError, match="not due"):
        claimed.claimed("w2", NOW + LEASE / 2, LEASE, attempt=2)


def test_only_the_lease_holder_settles() -> None:
    held = in_state(SE, owner="w1")
    with pytest.raises(InvalidTransitionError, match="not held by w2"):
        held.sent("w2", NOW)
    assert held.sent("w1", NOW).finished_at == NOW
    assert held.rescheduled("w1", NOW + LEASE, "timeout").next_attempt_at == NOW + LEASE


@pytest.mark.parametrize(
    ("permanent", "attempts", "gives"),
    [(False, 1, False), (False, 2, False), (False, 3, True), (True, 1, True), (True, 3, True)],
)
def test_a_failed_attempt_gives_up_when_permanent_or_attempts_are_spent(
    permanent: bool, attempts: int, gives: bool
) -> None:
    assert (
        gives_up(permanent=permanent, attempts=attempts, backoff=Backoff(max_attempts=3)) is gives
    )
