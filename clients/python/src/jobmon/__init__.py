"""Jobmon for TypeScript's Python client: Jobmon's Python API (``from jobmon.client.tool import
Tool``) over the project's HTTP API, with the standard library only. Runs go to the ``jobmon``
command's runner; see docs/python.md."""

__version__ = "0.1.0"
