#!/usr/bin/env bash
# Build the images the docker tests need, locally: nothing can be pulled from a registry here.
#
#   overfit-gate-test/python:3.11-bookworm   Debian bookworm (minbase) + python3.11 + venv, made with
#                                            mmdebstrap from Debian's packages and `docker import`ed.
#                                            Also the base the tests build the gate's Dockerfile on.
#   overfit-gate-test/train:torch-2.13.0-cpu-<hash> the base + a venv with torch 2.13.0 (CPU) + numpy: the
#                                            "user's training image" the docker runner gates examples in.
#   build/test-images/gate-wheels/           wheels of requirements/action.txt (+ setuptools), so the
#                                            gate's Dockerfile can be built offline (PIP_FIND_LINKS).
#
# Cached by tag: an image that exists is not rebuilt (FORCE=1 rebuilds). Needs a running daemon
# (scripts/docker-engine.sh start) and pip configured for the package index (or its local mirror).
# Cold: ~35 s rootfs + ~55 s torch layer on 2 cores; warm: ~1 s.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${GATE_TEST_IMAGE_CACHE:-$ROOT/build/test-images}"
BASE_TAG="${GATE_TEST_BASE:-overfit-gate-test/python:3.11-bookworm}"
# The tag carries a hash of the Dockerfile, so editing it rebuilds instead of reusing a stale image.
TRAIN_HASH="$(sha256sum "$ROOT/tests/docker/train.Dockerfile" | cut -c1-8)"
TRAIN_TAG="${GATE_TEST_TRAIN:-overfit-gate-test/train:torch-2.13.0-cpu-$TRAIN_HASH}"
PIP="${PIP:-$ROOT/.venv/bin/pip}"
[ -x "$PIP" ] || PIP="python3 -m pip"
TORCH="torch==2.13.0"
FORCE="${FORCE:-0}"
# The wheels go into a cp311 linux/x86_64 image whatever Python runs this script.
PLATFORMS="--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64"

say() { echo "build-test-images: $*" >&2; }
have() { [ "$FORCE" != "1" ] && docker image inspect "$1" >/dev/null 2>&1; }
SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo -n"

build_base() {
  if have "$BASE_TAG"; then say "$BASE_TAG cached"; return; fi
  if ! command -v mmdebstrap >/dev/null 2>&1 || [ ! -f /usr/share/keyrings/debian-archive-keyring.gpg ]; then
    # On an Ubuntu host (GitHub's runners) the Debian archive keyring is not there by default;
    # with it (and gpg) mmdebstrap verifies bookworm's signatures by itself.
    say "installing mmdebstrap and debian-archive-keyring"
    local pkgs="mmdebstrap debian-archive-keyring"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null \
      || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null; }
  fi
  mkdir -p "$CACHE"
  say "building a Debian bookworm root filesystem with python3.11 (mmdebstrap)"
  local t0=$SECONDS
  # Docs, man pages and locales are dead weight in a test image.
  $SUDO mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' bookworm "$CACHE/rootfs.tar"
  docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["python3"]' "$CACHE/rootfs.tar" "$BASE_TAG" >/dev/null
  rm -f "$CACHE/rootfs.tar"
  say "$BASE_TAG built in $((SECONDS - t0))s"
}

build_train() {
  if have "$TRAIN_TAG"; then say "$TRAIN_TAG cached"; return; fi
  local ctx="$CACHE/train-ctx" t0=$SECONDS
  mkdir -p "$ctx/wheels"
  $PIP download -q --only-binary=:all: --python-version 3.11 $PLATFORMS \
    -d "$ctx/wheels" "$TORCH" numpy==2.4.6 2>&1 | grep -v "is ignored" >&2 || true
  ls "$ctx"/wheels/torch-2.13.0* >/dev/null || { say "could not download $TORCH into $ctx/wheels"; exit 1; }
  cp "$ROOT/tests/docker/train.Dockerfile" "$ctx/Dockerfile"
  say "building $TRAIN_TAG"
  docker build -q --build-arg "BASE=$BASE_TAG" -t "$TRAIN_TAG" "$ctx" 2>&1 | grep -v -i -e deprecated -e buildx -e '^ *$' >&2 || true
  docker image inspect "$TRAIN_TAG" >/dev/null 2>&1 || { say "building $TRAIN_TAG failed"; exit 1; }
  say "$TRAIN_TAG built in $((SECONDS - t0))s"
}

gate_wheels() {
  local dir="$CACHE/gate-wheels"
  if [ "$FORCE" != "1" ] && [ -f "$dir/.complete" ] && [ "$dir/.complete" -nt "$ROOT/requirements/action.txt" ]; then
    say "gate wheels cached"; return
  fi
  mkdir -p "$dir"
  $PIP download -q --only-binary=:all: --python-version 3.11 $PLATFORMS \
    -d "$dir" -r "$ROOT/requirements/action.txt" "setuptools>=68" 2>&1 | grep -v "is ignored" >&2 || true
  ls "$dir"/pydantic-* >/dev/null || { say "could not download the gate's wheels"; exit 1; }
  touch "$dir/.complete"
}

build_base
build_train
gate_wheels
echo "BASE=$BASE_TAG"
echo "TRAIN=$TRAIN_TAG"
echo "WHEELS=$CACHE/gate-wheels"
