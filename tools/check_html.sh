#!/usr/bin/env bash
# Renders an HTML report in headless Chromium and checks the screenshot is not blank.
#
# usage: tools/check_html.sh REPORT.html OUT.png
# Env: CHROMIUM (the browser binary; default: the first of chromium, chromium-browser,
# google-chrome on PATH), CHECK_HTML_WINDOW (default 1280,4000), CHECK_HTML_TIMEOUT (s, 90).
# Exit: 0 rendered and not blank; 1 blank or render failed; 2 usage; 3 no Chromium.
# Chromium runs with a throwaway profile and every network feature it can switch off;
# the report itself loads nothing (it is self-contained).
set -euo pipefail
if (($# != 2)); then
  echo "usage: $0 REPORT.html OUT.png" >&2
  exit 2
fi
html=$1 png=$2
[[ -f $html ]] || { echo "check_html: no such file: $html" >&2; exit 2; }
browser=${CHROMIUM:-}
if [[ -z $browser ]]; then
  for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser=$(command -v "$b"); break; fi
  done
fi
if [[ -z $browser ]] || ! command -v "$browser" >/dev/null 2>&1; then
  echo "check_html: Chromium is not installed (needed to render the HTML report)." >&2
  echo "check_html: install it with scripts/install-deps.sh or 'apt-get install -y chromium'," >&2
  echo "check_html: or point CHROMIUM at a Chrome/Chromium binary." >&2
  exit 3
fi
here=$(cd "$(dirname "$0")" && pwd)
abs_html=$(realpath "$html")
abs_png=$(realpath -m "$png")
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$abs_png"
start=$(date +%s%N)
# --no-sandbox: CI and dev containers run as root, where Chromium refuses its sandbox.
timeout "${CHECK_HTML_TIMEOUT:-90}" "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
  --no-first-run --disable-background-networking --disable-component-update --disable-sync \
  --disable-extensions --hide-scrollbars --user-data-dir="$profile" \
  --window-size="${CHECK_HTML_WINDOW:-1280,4000}" --screenshot="$abs_png" "file://$abs_html" \
  >"$profile/chromium.log" 2>&1 || true
ms=$((($(date +%s%N) - start) / 1000000))
if [[ ! -s $abs_png ]]; then
  echo "check_html: Chromium wrote no screenshot; its output:" >&2
  tail -20 "$profile/chromium.log" >&2
  exit 1
fi
printf 'check_html: rendered %s in %d.%03d s\n' "$html" $((ms / 1000)) $((ms % 1000))
python3 "$here/png_check.py" "$abs_png"
