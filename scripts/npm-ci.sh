# Sourced by the scripts that install npm packages: `npm_ci DIR` runs `npm ci` in DIR only when
# DIR/package-lock.json changed since the last install (its hash is kept in node_modules).
npm_ci() {
  local dir=$1 stamp want
  stamp=$dir/node_modules/.lockfile-sha256
  want=$(sha256sum "$dir/package-lock.json" | awk '{ print $1 }')
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    printf '[npm] npm ci in %s\n' "$dir" >&2
    # puppeteer-core never downloads a browser; the tests use Debian's Chromium.
    (cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
}
