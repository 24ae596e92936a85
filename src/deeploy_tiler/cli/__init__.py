"""`tile-report`: the command-line front of the public API."""

from .main import app, main, run

__all__ = ["app", "main", "run"]
