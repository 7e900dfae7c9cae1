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

# Issue 14: 10,000 idle sessions, as many as the open-file limit allows (the bench process and the
# bridge each hold two descriptors per session). Busy sessions stay at 100: websockify forks one
# process per session (~70 MB each when busy) and was killed for memory at 500.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
limit=$(ulimit -n)
idle=$(( (limit - 2000) / 2 ))
[ "$idle" -gt 10000 ] && idle=10000
[ "$idle" -lt 1000 ] && idle=1000
echo "[relay] open-file limit $limit: $idle idle sessions" >&2
"$BENCH" relay --bridge "$BEACON_P2P" --websockify "$venv/bin/websockify" --out bench/out/relay.json \
  --idle-sessions "$idle" "$@"
