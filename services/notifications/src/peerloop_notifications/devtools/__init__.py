"""Tools for local runs and tests; not used by the service itself."""
