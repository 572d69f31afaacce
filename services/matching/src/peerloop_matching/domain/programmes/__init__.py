"""Programmes: matching a whole cohort at once, within each mentor's capacity.

Pure domain code: sparse candidate pairs from the matching engine (`candidates`),
the organisation's pairing rules (`rules`), the global assignment (`solver`, with
`fairness` for the worst-off mentee) and the figures a programme owner reads
(`figures`).
"""
