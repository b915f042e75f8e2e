#!/usr/bin/env bash
# build.sh — builds bingli's artefacts.
#
#   ./build.sh            build the bingli CLI into bin/bingli (same as ./build.sh bingli)
#   ./build.sh bingli     build the CLI
#   ./build.sh wasm       build the browser module(s) into web/ (GOOS=js GOARCH=wasm)
#   ./build.sh cuda       build lib/libbingli_cuda.so with nvcc (GPU machines only)
#   ./build.sh all        everything this machine can build
#   ./build.sh check      cross-compile the pure-Go core for GOOS=js GOARCH=wasm (no output kept)
#   ./build.sh worker     build the Cloudflare Worker into worker/build/ (worker/build.sh; prints its size)
set -euo pipefail
cd "$(dirname "$0")"

need_go() {
	command -v go >/dev/null 2>&1 || { echo "build.sh: Go is not installed (https://go.dev/dl/); bingli needs Go 1.26+" >&2; exit 1; }
}

build_bingli() {
	need_go
	mkdir -p bin
	CGO_ENABLED=${CGO_ENABLED:-0} go build -trimpath -o bin/bingli ./cmd/bingli
	echo "built bin/bingli"
}

build_wasm() {
	need_go
	if ! ls wasm/*.go >/dev/null 2>&1; then
		echo "build.sh wasm: the browser entry (wasm/) has not been written yet; nothing to build" >&2
		return 1
	fi
	GOOS=js GOARCH=wasm go build -trimpath -o web/bingli.wasm ./wasm
	cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" web/ 2>/dev/null || cp "$(go env GOROOT)/misc/wasm/wasm_exec.js" web/
	echo "built web/bingli.wasm"
}

build_cuda() {
	if ! command -v nvcc >/dev/null 2>&1; then
		echo "build.sh cuda: nvcc not found; the CUDA library is built on a GPU machine (bingli falls back to the CPU backend without it)" >&2
		return 1
	fi
	if ! ls cuda/*.cu >/dev/null 2>&1; then
		echo "build.sh cuda: no CUDA sources in cuda/ yet; nothing to build" >&2
		return 1
	fi
	mkdir -p lib
	nvcc -O3 -std=c++17 -shared -Xcompiler -fPIC \
		-gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
		-o lib/libbingli_cuda.so cuda/*.cu -lcublas
	echo "built lib/libbingli_cuda.so"
}

check_wasm() {
	need_go
	# core/, lexicon/ and weights/ must stay pure Go so the browser can run them.
	GOOS=js GOARCH=wasm go build ./core/... ./lexicon/... ./weights/...
	echo "core, lexicon and weights build for GOOS=js GOARCH=wasm"
}

case "${1:-bingli}" in
bingli) build_bingli ;;
wasm) build_wasm ;;
cuda) build_cuda ;;
check) check_wasm ;;
worker) worker/build.sh ;;
all)
	build_bingli
	build_wasm || true
	build_cuda || true
	;;
-h | --help | help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' ;;
*)
	echo "build.sh: unknown target '$1' (want bingli, wasm, cuda, check, worker, all)" >&2
	exit 2
	;;
esac
