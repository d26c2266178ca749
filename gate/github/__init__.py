"""Publishing to GitHub: the Actions environment (env), a small REST client (client), check
runs (check_runs), the commit status fallback (statuses), the sticky PR comment (comments), the
orchestration with fork/read-only degradation (publish), and launch gating (verify)."""
