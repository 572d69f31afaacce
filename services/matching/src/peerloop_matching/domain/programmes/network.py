"""The flow network of an assignment: source → mentee → [mentor × team] → mentor → sink.

Every arc out of the source and every mentee → mentor arc carries one unit; a mentor's
arc into the sink carries their remaining capacity. With a diversity bound, a
mentee reaches a mentor through a node for (mentor, the mentee's team) whose single
outgoing arc carries that team's remaining room at the mentor, wherever that team has
more candidates at the mentor than room.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.graph.python import max_flow, min_cost_flow

from peerloop_matching.domain.programmes.pairs import IntArray, Pairs

SCALE = 1_000_000
"""Scores are compared at six decimals, as `Scored.score` reports them."""

SOURCE, SINK = 0, 1
Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Room:
    """What is left to fill: capacity per mentor index, and with a diversity bound the
    room per (mentor index, team code) and each mentee's team code."""

    capacity: Int64Array
    per_team: int | None = None
    team_of: IntArray | None = None
    team_used: Mapping[tuple[int, int], int] | None = None


@dataclass(frozen=True)
class Network:
    tails: IntArray
    heads: IntArray
    capacities: Int64Array
    costs: Int64Array
    pair_arcs: slice
    """Where the arcs of the rows passed in sit, in their order."""
    supply: int


def build(pairs: Pairs, rows: IntArray, room: Room) -> Network:
    n, m = len(pairs.mentees), len(pairs.mentors)
    mentee = pairs.mentee[rows]
    mentor = pairs.mentor[rows]
    # Which nodes occur, in order: counting is linear where sorting (np.unique) is not.
    mentees = np.flatnonzero(np.bincount(mentee, minlength=n))
    mentors = np.flatnonzero(np.bincount(mentor, minlength=m))
    mentee_node = (2 + mentee).astype(np.int32)
    mentor_node = (2 + n + mentor).astype(np.int32)
    costs = -np.rint(pairs.score[rows] * SCALE).astype(np.int64)
    tails = [np.full(len(mentees), SOURCE, np.int32), mentee_node]
    heads = [(2 + mentees).astype(np.int32)]
    caps = [np.ones(len(mentees), np.int64), np.ones(len(rows), np.int64)]
    cost_parts = [np.zeros(len(mentees), np.int64), costs]
    if room.per_team is not None and room.team_of is not None:
        teams = int(room.team_of.max(initial=0)) + 1
        key = mentor.astype(np.int64) * teams + room.team_of[mentee]
        keys, via = np.unique(key, return_inverse=True)
        left = np.full(len(keys), room.per_team, dtype=np.int64)
        for (b, t), n_used in (room.team_used or {}).items():  # pins: a handful
            at = int(np.searchsorted(keys, b * teams + t))
            if at < len(keys) and keys[at] == b * teams + t:
                left[at] -= n_used
        # Only where a team has more candidates at a mentor than it has room can the bound
        # bite: those go through a node of their own, the rest straight to the mentor.
        binding = np.bincount(via, minlength=len(keys)) > left
        node_of_key = np.cumsum(binding) - 1
        through = binding[via]
        heads.append(np.where(through, 2 + n + m + node_of_key[via], mentor_node).astype(np.int32))
        tails.append((2 + n + m + np.arange(int(binding.sum()))).astype(np.int32))
        heads.append((2 + n + keys[binding] // teams).astype(np.int32))
        caps.append(np.maximum(left[binding], 0))
        cost_parts.append(np.zeros(int(binding.sum()), np.int64))
    else:
        heads.append(mentor_node)
    tails.append((2 + n + mentors).astype(np.int32))
    heads.append(np.full(len(mentors), SINK, np.int32))
    caps.append(np.maximum(room.capacity[mentors], 0))
    cost_parts.append(np.zeros(len(mentors), np.int64))
    start = len(mentees)
    return Network(
        np.concatenate(tails),
        np.concatenate(heads),
        np.concatenate(caps),
        np.concatenate(cost_parts),
        slice(start, start + len(rows)),
        len(mentees),
    )


def most_assigned(pairs: Pairs, rows: IntArray, room: Room) -> int:
    """How many mentees can be assigned at all through `rows` (a maximum flow)."""
    if len(rows) == 0:
        return 0
    net = build(pairs, rows, room)
    flow = max_flow.SimpleMaxFlow()
    flow.add_arcs_with_capacity(net.tails, net.heads, net.capacities)
    status = flow.solve(SOURCE, SINK)
    if status != flow.OPTIMAL:
        raise RuntimeError(f"maximum flow failed: {status}")
    return int(flow.optimal_flow())


def best_rows(pairs: Pairs, rows: IntArray, room: Room) -> IntArray:
    """The rows of an assignment that pairs as many mentees as possible and, among those,
    has the largest sum of scores (a maximum flow of minimum cost)."""
    if len(rows) == 0:
        return rows
    net = build(pairs, rows, room)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        net.tails, net.heads, net.capacities, net.costs
    )
    flow.set_node_supply(SOURCE, net.supply)
    flow.set_node_supply(SINK, -net.supply)
    status = flow.solve_max_flow_with_min_cost()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"minimum-cost flow failed: {status}")
    flows = np.asarray(flow.flows(np.asarray(arcs, dtype=np.int32)[net.pair_arcs]))
    return rows[flows > 0]
