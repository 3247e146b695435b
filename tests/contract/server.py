"""The local server in a subprocess, as the contract tests start it: see devserver/launcher.py (shared with the load
benchmark, which may not import tests)."""

from devserver.launcher import ServerError, ServerProcess

__all__ = ["ServerError", "ServerProcess"]
