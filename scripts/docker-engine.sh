#!/usr/bin/env bash
# Make a Docker engine available for the docker runner's tests, and stop only what we started.
#
#   bash scripts/docker-engine.sh start    # idempotent: install docker.io if dockerd is missing,
#                                          # start dockerd if no daemon answers, wait for `docker info`
#   bash scripts/docker-engine.sh stop     # stop the daemon only if `start` started it
#   bash scripts/docker-engine.sh status   # exit 0 when a daemon answers
#
# Why a script and not a fixture only: CI calls it before the test run, the session fixture calls
# it again (a no-op then), and a developer can use it by hand. The daemon runs as root (Debian's
# docker.io, overlay2); nothing is ever pulled from a registry (images are built locally).
set -euo pipefail

STATE_DIR="${GATE_TEST_ENGINE_STATE:-/tmp/overfit-gate-engine}"
PID_FILE="$STATE_DIR/dockerd.pid"
LOG_FILE="$STATE_DIR/dockerd.log"
WAIT_S="${GATE_TEST_ENGINE_WAIT:-90}"

say() { echo "docker-engine: $*" >&2; }

answers() { docker info >/dev/null 2>&1; }

# Root is needed only to install or start a daemon: with one already answering (GitHub's hosted
# runners, a developer in the docker group) `start` and `status` work without sudo.
SUDO=""
need_root() {
  [ "$(id -u)" = "0" ] && return 0
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; return 0; fi
  say "not root and no sudo; start a Docker daemon yourself"; exit 1
}

install_engine() {
  say "dockerd not found, installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Recommends (git, apparmor, needrestart, ...) are not needed to run containers.
  $SUDO apt-get install -y -qq --no-install-recommends docker.io >/dev/null
}

dockerd_bin() { command -v dockerd || { [ -x /usr/sbin/dockerd ] && echo /usr/sbin/dockerd; } || true; }

start() {
  if answers; then say "a Docker daemon already answers; nothing to start"; return 0; fi
  need_root
  if [ -z "$(dockerd_bin)" ]; then install_engine; fi
  local bin; bin="$(dockerd_bin)"
  [ -n "$bin" ] || { say "dockerd still missing after installing docker.io"; exit 1; }
  if ! command -v docker >/dev/null 2>&1; then say "no docker client on PATH"; exit 1; fi
  mkdir -p "$STATE_DIR"
  say "starting $bin (log: $LOG_FILE)"
  # setsid: the daemon must outlive this script and the shell that ran it.
  $SUDO setsid "$bin" --host unix:///var/run/docker.sock >"$LOG_FILE" 2>&1 < /dev/null &
  echo $! > "$PID_FILE"
  local waited=0
  until answers; do
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      say "dockerd exited during start-up; last log lines:"; tail -n 30 "$LOG_FILE" >&2; rm -f "$PID_FILE"; exit 1
    fi
    if [ "$waited" -ge "$WAIT_S" ]; then
      say "dockerd did not answer within ${WAIT_S}s; last log lines:"; tail -n 30 "$LOG_FILE" >&2; exit 1
    fi
    sleep 1; waited=$((waited + 1))
  done
  # Let non-root users of this machine (the tests may run as one) reach the socket.
  $SUDO chmod 666 /var/run/docker.sock 2>/dev/null || true
  say "daemon up after ${waited}s (pid $(cat "$PID_FILE"))"
}

stop() {
  if [ ! -f "$PID_FILE" ]; then say "no daemon started by this script; nothing to stop"; return 0; fi
  local pid; pid="$(cat "$PID_FILE")"
  need_root
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping dockerd (pid $pid)"
    $SUDO kill -TERM "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then say "dockerd still running after 30s, killing"; $SUDO kill -KILL "$pid" || true; fi
  fi
  rm -f "$PID_FILE"
}

status() { if answers; then say "daemon answers"; else say "no daemon answers"; return 1; fi; }

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
