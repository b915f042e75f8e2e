#!/usr/bin/env bash
# cuda_check.sh OUTDIR — on the GPU machine: build libbingli_cuda.so, run the
# CUDA backend's Go test binary (conformance suite + tagger parity), and
# compute-sanitizer memcheck over the conformance suite. The test binary is
# built beforehand on a machine with Go:
#   go test -c -o .devbuild/cuda/cuda.test ./cuda
set -uo pipefail
out=${1:?usage: cuda_check.sh OUTDIR}
cd "$(dirname "$0")/../.."
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
nvcc --version | tail -1
./build.sh cuda 2>&1 | tee "$out/build.log" || exit 1
export BINGLI_CUDA_LIB=$PWD/lib/libbingli_cuda.so BINGLI_REQUIRE_CUDA=1
.devbuild/cuda/cuda.test -test.v -test.count 1 2>&1 > "$out/tests.log"
rc=$?
grep -E "^(--- FAIL|FAIL|ok|PASS)|device:|_test.go" "$out/tests.log" | head -60
echo "tests exit $rc"
if [ "${MEMCHECK:-1}" = 1 ]; then
	compute-sanitizer --tool memcheck --leak-check full .devbuild/cuda/cuda.test -test.run 'Conformance' -test.count 1 > "$out/memcheck.log" 2>&1
	echo "memcheck exit $?"
	grep -E "ERROR SUMMARY|LEAK SUMMARY|^PASS|^FAIL" "$out/memcheck.log" | head
fi
