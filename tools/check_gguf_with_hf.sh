#!/usr/bin/env bash
# Manual cross-check of lorank's GGUF writer and reader against an independent parser,
# @huggingface/gguf (npm). Not part of ctest: it needs node >= 18 and the npm registry.
#
#   tools/check_gguf_with_hf.sh [BUILD_DIR]     (default: build)
#
# 1. installs @huggingface/gguf into a scratch folder under /tmp (never into the repo);
# 2. runs the GgufHfExport test, which writes sample.gguf (every value type, nested arrays,
#    unicode, alignment 64, F32/F16/BF16/Q8_0 tensors of 1-4 dims) and lorank_dump.txt
#    (what lorank reads back);
# 3. dumps sample.gguf with the npm parser (tools/gguf_hf_dump.mjs) and diffs the dumps.
# Exits non-zero, loudly, if node/npm are missing, the install fails or the dumps differ.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$repo/build"}
hf_version=0.4.6   # the version checked when this script was written

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "check_gguf_with_hf: '$tool' not found" >&2; exit 2; }
done
[[ -x "$build/tests/lorank_tests" ]] || { echo "check_gguf_with_hf: build $build/tests/lorank_tests first" >&2; exit 2; }

work=${GGUF_CHECK_DIR:-/tmp/gguf-check}
mkdir -p "$work"
if [[ ! -d "$work/node_modules/@huggingface/gguf" ]]; then
  (cd "$work" && { [[ -f package.json ]] || npm init -y >/dev/null; } &&
   npm install --no-audit --no-fund "@huggingface/gguf@$hf_version" >/dev/null)
fi
cp "$repo/tools/gguf_hf_dump.mjs" "$work/"   # ESM resolves packages next to the script

LORANK_GGUF_EXPORT_DIR="$work" "$build/tests/lorank_tests" --gtest_filter='GgufHfExport.*' >/dev/null
(cd "$work" && node gguf_hf_dump.mjs sample.gguf > hf_dump.txt)
if diff -u "$work/lorank_dump.txt" "$work/hf_dump.txt"; then
  echo "check_gguf_with_hf: OK, @huggingface/gguf@$hf_version reads $(grep -c '^kv ' "$work/hf_dump.txt") KVs" \
       "and $(grep -c '^tensor ' "$work/hf_dump.txt") tensors exactly as lorank does ($work)"
else
  echo "check_gguf_with_hf: MISMATCH between lorank and @huggingface/gguf (see diff above)" >&2
  exit 1
fi
