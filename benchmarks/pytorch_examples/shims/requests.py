"""Shim: `requests.get(url, stream=True)` serves the local synthetic cora.tgz (no network)."""

import os


class _Resp:
    def __init__(self, path):
        self.raw = open(path, "rb")  # noqa: SIM115  (closed by __exit__, as a requests Response)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.raw.close()


def get(url, stream=False, **kw):
    return _Resp(os.path.join(os.environ["CORPUS_DATA"], os.path.basename(url)))
