"""A fake GitHub for the test suite (a real HTTP server on 127.0.0.1); see server.py."""

from .server import OTHER_APP, PAT, PAT_ON_CHECKS, READ_ONLY, TOKEN, FakeGitHub
from .spec import EVENTS, GITHUB_DATA

__all__ = ["EVENTS", "GITHUB_DATA", "OTHER_APP", "PAT", "PAT_ON_CHECKS", "READ_ONLY", "TOKEN", "FakeGitHub"]
