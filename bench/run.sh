#!/usr/bin/env bash
# The benchmarks, side by side with the alternatives, in one run:
#   bash bench/run.sh              # every part in bench/parts/*.sh, in sorted order
#   bash bench/run.sh relay        # only the named parts
# Installs what is missing (scripts/setup.sh), runs each part (each writes bench/out/<part>.json),
# then bench/table.py prints one table and writes bench/RESULTS.md. A failed part does not stop
# the others; the exit status is 1 when any part failed. A part that exits 3 after writing its
# rows is "over-budget": a failure whose rows are still in the table (the size part's budget).
set -uo pipefail
cd "$(dirname "$0")/.."

log() { printf '[bench] %s\n' "$*" >&2; }

bash scripts/setup.sh || { log "scripts/setup.sh failed"; exit 1; }
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

if [ $# -gt 0 ]; then
  parts=()
  for name in "$@"; do parts+=("bench/parts/${name%.sh}.sh"); done
else
  mapfile -t parts < <(find bench/parts -maxdepth 1 -name '*.sh' | LC_ALL=C sort)
fi

mkdir -p bench/out
ran=()
for part in "${parts[@]}"; do
  name=$(basename "$part" .sh)
  rm -f "bench/out/$name.json"
  log "part $name: $part"
  start=$(date +%s)
  rc=1
  [ -f "$part" ] && { bash "$part"; rc=$?; }
  case $rc in 0) status=ok ;; 3) status=over-budget ;; *) status=failed ;; esac
  seconds=$(( $(date +%s) - start ))
  if [ "$status" != failed ] && [ ! -s "bench/out/$name.json" ]; then status=failed; fi
  log "part $name: $status in ${seconds} s"
  ran+=(--ran "$name=$status:$seconds")
done

python3 bench/table.py "${ran[@]}"
