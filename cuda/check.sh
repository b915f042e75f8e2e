#!/usr/bin/env bash
# cuda/check.sh — compile-check the CUDA sources on a machine without a GPU, so that a
# syntax or type error in cuda/*.cu fails CI. It uses the nvcc of Debian's
# nvidia-cuda-toolkit (CUDA 11.8, non-free), unpacked into a cache folder without installing
# it, with g++-11 as the host compiler (CUDA 11.8 does not accept gcc 12). The real build
# (CUDA 13, sm_90, linked against cuBLAS) is ./build.sh cuda on the GPU machine.
#
# If the toolkit cannot be fetched (no network, no Debian), it says so and exits 0: the
# check is a guard, not a requirement for building bingli.
set -euo pipefail
cd "$(dirname "$0")"
cache=${BINGLI_NVCC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bingli-nvcc}
root=$cache/root
nvcc=$root/usr/lib/nvidia-cuda-toolkit/bin/nvcc
skip() { echo "cuda/check.sh: skipped: $*" >&2; exit 0; }

if [ ! -x "$nvcc" ]; then
	command -v apt-get >/dev/null || skip "no apt-get to fetch Debian's nvidia-cuda-toolkit"
	mkdir -p "$cache/debs" "$cache/lists" "$root"
	src=$cache/sources.list
	echo "deb http://deb.debian.org/debian bookworm main contrib non-free" > "$src"
	apt_opts=(-o "Dir::Etc::SourceList=$src" -o "Dir::Etc::SourceParts=-" -o "Dir::State::Lists=$cache/lists"
		-o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
	apt-get "${apt_opts[@]}" update -qq >/dev/null 2>&1 || skip "apt-get update failed (no network?)"
	(cd "$cache/debs" && apt-get "${apt_opts[@]}" download -qq nvidia-cuda-toolkit nvidia-cuda-dev libnvvm4 \
		>/dev/null 2>&1) || skip "could not download nvidia-cuda-toolkit"
	for f in "$cache"/debs/nvidia-cuda-toolkit_*.deb "$cache"/debs/libnvvm4_*.deb; do dpkg -x "$f" "$root"; done
	dpkg-deb --fsys-tarfile "$cache"/debs/nvidia-cuda-dev_*.deb | tar -x -C "$root" --wildcards './usr/include/*'
	rm -rf "$cache/debs"
	# The packaged profile is a link to /etc/nvcc.profile with absolute /usr paths; point it
	# at the unpacked tree instead.
	rm -f "$root/usr/lib/nvidia-cuda-toolkit/bin/nvcc.profile"
	cat > "$root/usr/lib/nvidia-cuda-toolkit/bin/nvcc.profile" <<'PROFILE'
TOP = $(_HERE_)/../../../..
NVVMIR_LIBRARY_DIR = $(TOP)/usr/lib/nvidia-cuda-toolkit/libdevice
PATH += $(_HERE_):$(TOP)/usr/bin:
INCLUDES += "-I$(TOP)/usr/include" $(_SPACE_)
PROFILE
fi
gxx=$(command -v g++-11 || true)
if [ -z "$gxx" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get install -y -qq g++-11 >/dev/null 2>&1 || skip "could not install g++-11 (CUDA 11.8's newest host compiler)"
		gxx=$(command -v g++-11)
	else
		skip "g++-11 is needed as CUDA 11.8's host compiler"
	fi
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
for f in *.cu; do
	if ! "$nvcc" -ccbin "$gxx" -std=c++17 -gencode arch=compute_90,code=sm_90 -Xcompiler -fPIC -c "$f" -o "$out/${f%.cu}.o"; then
		echo "cuda/check.sh: $f does not compile" >&2
		fail=1
	fi
done
[ $fail = 0 ] && echo "cuda/check.sh: $(ls *.cu | wc -l) CUDA sources compile (nvcc $("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'), sm_90)"
exit $fail
