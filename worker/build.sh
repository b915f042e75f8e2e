#!/usr/bin/env bash
# worker/build.sh — builds bingli's Cloudflare Worker into worker/build/:
#   build/app.wasm     the Go program (GOOS=js GOARCH=wasm, standard Go toolchain), model inside
#   build/worker.mjs   syumai/workers' entry module, with wasm_exec.js and runtime.mjs
# and prints the bundle's size raw, gzip -9 and brotli (when `brotli` is installed).
#
#   BINGLI_WORKER_MODEL=DIR   the model bundle to compile in (default ../weights/ccks2017-lite)
#   BINGLI_WORKER_STRIP=0     keep the symbol table (default: -ldflags="-s -w")
#   BINGLI_WORKER_WASMOPT=1   also run `wasm-opt -Oz` (binaryen; slow, and only ~5% smaller raw,
#                             <1% smaller compressed)
set -euo pipefail
cd "$(dirname "$0")"
command -v go >/dev/null 2>&1 || { echo "worker/build.sh: Go is not installed" >&2; exit 1; }

model=${BINGLI_WORKER_MODEL:-../weights/ccks2017-lite}
[ -f "$model/config.json" ] || { echo "worker/build.sh: no model bundle in $model" >&2; exit 1; }
rm -rf model
mkdir -p model/bundle
for f in config.json model.safetensors model.safetensors.zst vocab.txt lexicon.bin; do
	if [ -f "$model/$f" ]; then cp "$model/$f" model/bundle/; fi
done
basename "$(cd "$model" && pwd)" >model/name.txt

go run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o build
ldflags="-s -w"
if [ "${BINGLI_WORKER_STRIP:-1}" = 0 ]; then ldflags=""; fi
GOOS=js GOARCH=wasm go build -trimpath -ldflags="$ldflags" -o build/app.wasm .
if [ "${BINGLI_WORKER_WASMOPT:-0}" = 1 ]; then
	wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int build/app.wasm -o build/app.opt.wasm
	mv build/app.opt.wasm build/app.wasm
fi

# Sizes: Cloudflare's limit applies to the compressed upload (10 MB on paid plans).
total=0
for f in build/*; do total=$((total + $(wc -c <"$f"))); done
gz=$(cat build/* | gzip -9 | wc -c)
br="-"
if command -v brotli >/dev/null 2>&1; then br=$(cat build/* | brotli -c -q 11 | wc -c); fi
echo "built worker/build/ ($(cat model/name.txt)): $total bytes raw, $gz gzip -9, $br brotli (app.wasm $(wc -c <build/app.wasm) bytes)"
