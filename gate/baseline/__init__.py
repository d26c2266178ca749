"""Compare a run with the base branch's run (issue 15).

overfit-gate trains with a fixed seed on a fixed batch, so two runs of the same config are
comparable across commits: a pipeline that still overfits but needs 4x the steps it needed on
``main`` has usually picked up a silent bug. One module per job:

- ``model``: the versioned run summary and the ``baseline`` block of ``result.json``;
- ``summary``: a result -> summary, and the summary's text form in a check run's ``output.text``;
- ``compare``: like with like, thresholds, the one-sentence verdict (pure, no I/O);
- ``find``: the base commit's (or nearest ancestor's) summary, through the checks API;
- ``attach``: the glue ``run``, ``publish`` and ``compare`` share; never raises;
- ``render``: the table, the chart's second line, the PNG overlay, the terminal line.

This package's ``__init__`` imports nothing: ``gate.result`` imports ``gate.baseline.model``.
"""
