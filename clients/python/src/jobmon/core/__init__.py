"""Shared parts of the Python client: status constants, error classes, identity hashes, HTTP."""
