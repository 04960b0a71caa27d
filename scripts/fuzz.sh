#!/usr/bin/env bash
# Builds the libFuzzer targets (clang + ASan/UBSan) and runs each for SECONDS (default 60)
# with seed corpora from ../shared/adapters and generated adapters.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# FUZZ_MAX_LEN (default 65536) caps the input size: the long run uses 1048576 so that deep
# JSON and big headers are reachable. FUZZ_SKIP_BUILD=1 runs the targets as built (for
# several runs at once beside each other). FUZZ_BUILD_DIR (default build-fuzz) names the
# build: CI points it at its sanitizer build, which holds the tests and the fuzz targets.
# Corpora and findings live in build-fuzz/corpus/<target> and build-fuzz/findings/<target>.
# A crash makes the script exit non-zero and leaves the input under findings/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
SHARED=${LORANK_SHARED_DIR:-../shared}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
MAX_LEN=${FUZZ_MAX_LEN:-65536}
if [[ -z "${FUZZ_SKIP_BUILD:-}" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DLORANK_FUZZ=ON -DLORANK_BUILD_TESTS=OFF \
    -DLORANK_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" >/dev/null
fi
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(fuzz_safetensors fuzz_peft_config fuzz_adapter fuzz_render fuzz_gguf fuzz_pickle fuzz_unpickler fuzz_checkpoint)

seed() {  # seed TARGET: fills the corpus folder once, then adds the malformed corpus cases
  local t=$1 dir=$BUILD/corpus/$1
  mkdir -p "$dir"
  case $t in
    fuzz_safetensors|fuzz_adapter) cp -n tests/data/malformed/st-*.safetensors "$dir/" ;;
    fuzz_gguf) cp -n tests/data/malformed/*.gguf "$dir/" ;;
    fuzz_pickle) cp -n tests/data/malformed/*.bin "$dir/" ;;
    fuzz_checkpoint)  # role byte (fuzz_checkpoint.cc): \0 = index text, \1 = a checkpoint file
      for f in tests/data/malformed-checkpoints/*/*.json; do
        { printf '\0'; cat "$f"; } > "$dir/idx-$(basename "$(dirname "$f")")"
      done
      for f in tests/data/malformed-checkpoints/*.* tests/data/malformed-checkpoints/*/*.safetensors \
               "$SHARED"/models/stories260K-quant/model.gguf "$SHARED"/models/kquants/model.gguf \
               "$SHARED"/models/stories260K-sharded/model-00001-of-00003.safetensors; do
        [[ -f "$f" && "$f" != *.tsv ]] || continue
        { printf '\1'; cat "$f"; } > "$dir/ckpt-$(basename "$(dirname "$f")")-$(basename "$f")"
      done ;;
    fuzz_render)  # PEFT folders as config + separator + weights (fuzz_render.cc)
      cp -n tests/data/malformed/st-*.safetensors tests/data/malformed/*.gguf "$dir/"
      for d in tests/data/malformed/peft-*/; do
        [[ -f "$d/adapter_config.json" && -f "$d/adapter_model.safetensors" ]] || continue
        { cat "$d/adapter_config.json"; printf '\n#LORANK-WEIGHTS#\n'; cat "$d/adapter_model.safetensors"; } \
          > "$dir/$(basename "$d")"
      done ;;
  esac
  [[ -n "$(ls -A "$dir" | grep -v '^st-\|^gguf-\|^bin-\|^peft-\|^idx-\|^ckpt-')" ]] && return
  case $t in
    fuzz_safetensors|fuzz_adapter)
      find "$SHARED/adapters" -name '*.safetensors' -size -4M -exec cp -t "$dir" {} + 2>/dev/null || true
      # small ones help the fuzzer most: cut the big real files down to their headers
      for f in "$dir"/*.safetensors; do head -c 4096 "$f" > "$f.head"; done ;;
    fuzz_peft_config)
      for f in "$SHARED"/adapters/*/adapter_config.json; do cp "$f" "$dir/$(basename "$(dirname "$f")").json"; done ;;
    fuzz_gguf)
      ./build/tests/lorank_tests --gtest_filter='GgufHfExport.*' >/dev/null 2>&1 || true
      find /tmp -maxdepth 3 -name '*.gguf' -size -1M -exec cp -t "$dir" {} + 2>/dev/null || true
      printf 'GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' > "$dir/empty.gguf" ;;
    fuzz_pickle)
      cp "$SHARED/adapters/gpt2-great-bin-r8/adapter_model.bin" "$dir/" ;;
    fuzz_render)
      /usr/bin/python3 fuzz/make_render_seeds.py "$SHARED/adapters" "$dir" ;;
    fuzz_unpickler)
      python3 - "$SHARED/adapters/gpt2-great-bin-r8/adapter_model.bin" "$dir/real.pkl" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
name = [n for n in z.namelist() if n.endswith("data.pkl")][0]
open(sys.argv[2], "wb").write(z.read(name))
PY
      ;;
  esac
}

dict_for() {
  case $1 in
    fuzz_gguf|fuzz_checkpoint) echo fuzz/gguf.dict ;;
    fuzz_pickle|fuzz_unpickler) echo fuzz/pickle.dict ;;
    *) echo fuzz/json.dict ;;
  esac
}

status=0
for t in "${TARGETS[@]}"; do
  seed "$t"
  mkdir -p "$BUILD/findings/$t"
  echo "fuzz: $t for ${SECONDS_EACH}s" >&2
  if ! "$BUILD/fuzz/$t" "$BUILD/corpus/$t" -dict="$(dict_for "$t")" -max_total_time="$SECONDS_EACH" \
      -max_len="$MAX_LEN" -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$BUILD/findings/$t/" \
      -print_final_stats=1 > "$BUILD/findings/$t.log" 2>&1; then
    echo "fuzz: $t FOUND A CRASH: see $BUILD/findings/$t/ and $BUILD/findings/$t.log" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$BUILD/findings/$t.log" | sed "s/^/fuzz: $t /" >&2 || true
done
exit $status
