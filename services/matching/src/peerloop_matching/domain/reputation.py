"""Reputation as a Bayesian-smoothed mean of 1–5 ratings.

Every helper starts at PRIOR_MEAN as if they already had PRIOR_WEIGHT ratings of
that value: one 1-star review moves a newcomer from 4.0 to 3.5, not to 1.0, and
a long record of ratings outweighs the prior. 4.0 is a little above the scale's
middle because peers who volunteer to teach are usually rated well; 5 virtual
ratings is about one month of sessions for an active helper.
"""

from __future__ import annotations

PRIOR_MEAN = 4.0
PRIOR_WEIGHT = 5.0


def smoothed_rating(
    rating_sum: float,
    rating_count: int,
    *,
    prior_mean: float = PRIOR_MEAN,
    prior_weight: float = PRIOR_WEIGHT,
) -> float:
    return (prior_mean * prior_weight + rating_sum) / (prior_weight + rating_count)


def normalised(rating: float) -> float:
    """1..5 onto 0..1."""
    return max(0.0, min(1.0, (rating - 1.0) / 4.0))
