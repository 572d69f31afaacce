"""Peerloop insights: what the learning events say, as aggregates only."""
