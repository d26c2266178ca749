"""One error hierarchy; each class carries the exit code the top-level handler returns.

Exit codes (ARCHITECTURE.md): 0 pass, 1 fail, 2 usage/config error, 3 the pipeline errored,
4 not applicable (an overfit test does not fit this program: RL, GANs, local losses; never a pass).
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_ERROR = 3
EXIT_NOT_APPLICABLE = 4

VERDICT_EXIT = {
    "pass": EXIT_PASS,
    "fail": EXIT_FAIL,
    "error": EXIT_ERROR,
    "not_applicable": EXIT_NOT_APPLICABLE,
}


class GateError(Exception):
    """Base class. ``hint`` is the next thing the user should do (a config snippet, a flag)."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(GateError):
    """Bad flag, bad config, entry point that does not exist."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A config key or value is wrong (unknown key, wrong type, conflicting keys)."""


class EntrypointError(UsageError):
    """The declared entry point cannot be found or does not follow the task contract."""


class RunnerError(GateError):
    """The runner could not start or finish the harness (no Docker, image missing, no GPU)."""

    exit_code = EXIT_ERROR


class ResultError(GateError):
    """``result.json`` is missing or does not validate against the result model."""

    exit_code = EXIT_ERROR


class GitHubError(GateError):
    """The GitHub API refused or failed a request we could not degrade around."""

    exit_code = EXIT_ERROR
