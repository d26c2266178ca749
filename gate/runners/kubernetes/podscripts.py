"""The halves of the transfer that run inside the pod (transfer.py is the gate's side): the
container's bootstrap, the result emitter and the upload receiver. Plain ``sh`` and the image's
Python (no ``tar`` needed); every path and value is an argument, never interpolated."""

from __future__ import annotations

OUTPUT_LIMIT = 32 << 20  # bytes of result files accepted back (result.json + loss.csv are KBs)
WAIT_READY_S = 600  # the bootstrap gives up (exit 125) if no workspace arrives
EXIT_NO_WORKSPACE = 125

# Runs in the pod as `sh -c BOOTSTRAP overfit-gate ROOT NONCE PYTHON EMIT`: arguments, never interpolated.
BOOTSTRAP = r"""root="$1"; nonce="$2"; py="$3"; i=0
while [ ! -e "$root/.ready" ]; do
  i=$((i + 1)); if [ "$i" -gt WAIT_TICKS ]; then echo "overfit-gate: no workspace arrived" >&2; exit NO_WS; fi
  sleep 0.2
done
[ -n "$py" ] || py="$(command -v python || command -v python3)"
[ -n "$py" ] || { echo "overfit-gate: the image has neither python nor python3" >&2; exit 127; }
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
[ -w "${HOME:-/}" ] || export HOME=/tmp
cd "$root/work" || exit NO_WS
"$py" -m gate.harness --spec "$root/out/spec.json"
code=$?
"$py" -c "$4" "$root/out" "$nonce" "$code"
exit "$code"
""".replace("WAIT_TICKS", str(WAIT_READY_S * 5)).replace("NO_WS", str(EXIT_NO_WORKSPACE))

# Prints out/ as marked base64 lines (flat regular files only, spec.json excluded).
EMIT = r"""import base64, io, os, sys, tarfile
out, nonce, code = sys.argv[1:4]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w:gz") as tar:
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        if name != "spec.json" and os.path.isfile(path) and not os.path.islink(path) and os.path.getsize(path) <= LIMIT:
            tar.add(path, name)
data = base64.b64encode(buf.getvalue()).decode()
tag = "::overfit-gate-" + nonce + "::"
print(tag + "begin " + str(len(data)), flush=True)
for i in range(0, len(data), 3000):
    print(tag + data[i:i + 3000], flush=True)
print(tag + "end " + code, flush=True)
""".replace("LIMIT", str(OUTPUT_LIMIT))

# Runs in the pod as `python -c RECEIVE ROOT SIZE`: reads exactly SIZE bytes (WebSocket exec has
# no end-of-stdin before the v5 protocol), unpacks them, then marks the workspace ready.
RECEIVE = r"""import os, sys, tarfile
root, size = sys.argv[1], int(sys.argv[2])
class Exact:
    def __init__(self, f, n): self.f, self.n = f, n
    def read(self, k=-1):
        k = self.n if k is None or k < 0 else min(k, self.n)
        data = self.f.read(k) if k else b""
        if k and not data: sys.exit("overfit-gate: the upload stopped %d bytes short" % self.n)
        self.n -= len(data)
        return data
src = Exact(sys.stdin.buffer, size)
with tarfile.open(fileobj=src, mode="r|gz") as tar:
    kw = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    tar.extractall(root, **kw)
while src.read(65536): pass
open(os.path.join(root, ".ready"), "w").close()
print("received", size, flush=True)
"""


def bootstrap_command(root: str, nonce: str, python: str | None) -> list[str]:
    return ["/bin/sh", "-c", BOOTSTRAP, "overfit-gate", root, nonce, python or "", EMIT]


def receive_command(root: str, size: int, python: str | None) -> list[str]:
    pick = 'py="${3:-$(command -v python || command -v python3)}"; exec "$py" -c "$0" "$1" "$2"'
    return ["/bin/sh", "-c", pick, RECEIVE, root, str(size), python or ""]
