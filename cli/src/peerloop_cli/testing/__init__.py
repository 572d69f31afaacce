"""Pytest plugin giving every test suite the real Kafka broker and store."""
