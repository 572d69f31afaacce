"""The `peerloop` command: local infrastructure, services and demo data."""
