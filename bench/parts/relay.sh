#!/usr/bin/env bash
# Relay: the bridge's WebSocket→TCP relay vs direct TCP vs websockify (bench/README.md).
# Writes bench/out/relay.json. Options of the tool: target/release/examples/bench relay --help.
# shellcheck disable=SC1091
. "$(dirname "$0")/../lib.sh"

# websockify, pinned with its dependencies, in a venv of its own.
venv=bench/.venv
stamp="$venv/.requirements-sha256"
want=$(sha256sum bench/requirements-websockify.txt | awk '{ print $1 }')
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    echo "[relay] installing python3-venv" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq python3-venv >/dev/null; else sudo apt-get install -y -qq python3-venv >/dev/null; fi
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r bench/requirements-websockify.txt
  echo "$want" > "$stamp"
fi

"$BENCH" relay --bridge "$BEACON_P2P" --websockify "$venv/bin/websockify" --out bench/out/relay.json "$@"
