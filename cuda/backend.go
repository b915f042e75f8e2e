package cuda

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"unsafe"

	"github.com/bingli/bingli/core/tensor"
)

// abiVersion is BC_ABI_VERSION of the bingli_cuda.h this package was written against.
const abiVersion = 1

// Status codes of bingli_cuda.h.
const (
	statusOK       = 0
	statusArgument = 1
	statusMemory   = 2
	statusCUDA     = 3
	statusCUBLAS   = 4
	statusNoDevice = 5
)

var (
	// ErrUnavailable reports that the CUDA backend cannot be used here: no
	// library, a binary built without cgo, no driver or no device.
	ErrUnavailable = errors.New("cuda: backend unavailable")
	// ErrNotFound (which also matches ErrUnavailable) reports that
	// libbingli_cuda.so is not installed where Open looks.
	ErrNotFound = fmt.Errorf("%w: libbingli_cuda.so not found", ErrUnavailable)
	// ErrDevice reports a failure inside the library (a CUDA or cuBLAS
	// error, or device memory exhausted).
	ErrDevice = errors.New("cuda: device error")
)

// args mirrors bc_args.
type args struct {
	p   [16]uint64
	i   [16]int64
	f   [8]float32
	out [4]float64
}

// Options configure Open.
type Options struct {
	// Device is the CUDA device ordinal.
	Device int
	// Library is the path of libbingli_cuda.so; empty means the search
	// described in the package documentation.
	Library string
	// TF32 lets cuBLAS run fp32 products on TF32 tensor cores (about 10
	// mantissa bits in the products).
	TF32 bool
	// BF16 stores every tensor as bfloat16 on the device (Upload and Download
	// convert; ops compute in fp32 registers and GEMMs on bf16 tensor cores
	// with fp32 accumulation). Only the ops a transformer encoder's inference
	// needs support it — MatMul, BatchedMatMul, Add, AddBias, Activate,
	// LayerNorm, AddLayerNorm, Embedding, Attention and the memory ops; the
	// others return an error wrapping tensor.ErrUnsupported.
	BF16 bool
}

// Backend is the CUDA backend. Its methods are safe for concurrent use; they
// are serialised on one stream.
type Backend struct {
	mu      sync.Mutex
	lib     *library
	ctx     *context
	name    string
	devName string
	closed  bool
	// elem is the bytes per stored element: 4, or 2 with bf16 storage.
	elem int
}

// LibraryPaths returns the places Open looks for the library, in order.
func LibraryPaths() []string {
	var paths []string
	if p := os.Getenv("BINGLI_CUDA_LIB"); p != "" {
		paths = append(paths, p)
	}
	const so = "libbingli_cuda.so"
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		paths = append(paths, filepath.Join(dir, so), filepath.Join(dir, "lib", so))
	}
	paths = append(paths, filepath.Join("lib", so))
	return paths
}

// Open loads the CUDA library and creates a context on a device. Errors
// wrap ErrUnavailable when the backend cannot run here at all.
func Open(opt Options) (*Backend, error) {
	paths := []string{opt.Library}
	if opt.Library == "" {
		paths = LibraryPaths()
	}
	var lib *library
	var tried []string
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			tried = append(tried, p)
			continue
		}
		l, err := dlopen(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		lib = l
		break
	}
	if lib == nil {
		return nil, fmt.Errorf("%w (looked at %v; build it with ./build.sh cuda or set BINGLI_CUDA_LIB)", ErrNotFound, tried)
	}
	ctx, rc, err := lib.newContext(opt.Device)
	if err != nil {
		if rc == statusNoDevice {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("cuda: open device %d: %v: %w", opt.Device, err, ErrDevice)
	}
	b := &Backend{lib: lib, ctx: ctx, name: fmt.Sprintf("cuda:%d", opt.Device), elem: 4}
	var a args
	name := make([]byte, 256)
	if err := b.call("bc_device_info", &a, nil, unsafe.Pointer(&name[0])); err != nil {
		b.Close()
		return nil, err
	}
	if i := indexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	b.devName = string(name)
	if opt.TF32 {
		if err := b.SetTF32(true); err != nil {
			b.Close()
			return nil, err
		}
	}
	if opt.BF16 {
		a = args{}
		a.i[0] = 1
		if err := b.call("bc_set_precision", &a, nil, nil); err != nil {
			b.Close()
			return nil, err
		}
		b.elem = 2
		b.name += "/bf16"
	}
	return b, nil
}

func indexByte(b []byte, c byte) int {
	for i, v := range b {
		if v == c {
			return i
		}
	}
	return -1
}

// Close releases the context and all its device memory. Tensors of the
// backend must not be used afterwards.
func (b *Backend) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		b.ctx.close()
	}
}

// Device describes the GPU ("NVIDIA H100 80GB HBM3").
func (b *Backend) Device() string { return b.devName }

// SetTF32 switches cuBLAS between exact fp32 and TF32 tensor-core products.
func (b *Backend) SetTF32(on bool) error {
	var a args
	if on {
		a.i[0] = 1
	}
	return b.call("bc_set_math", &a, nil, nil)
}

// Sync waits until every queued op has finished (for timing).
func (b *Backend) Sync() error { return b.call("bc_sync", &args{}, nil, nil) }

// MemoryStats reports device bytes held by live tensors and by the cache.
func (b *Backend) MemoryStats() (live, cached int64, err error) {
	var a args
	if err := b.call("bc_trim", &a, nil, nil); err != nil {
		return 0, 0, err
	}
	return int64(a.out[0]), int64(a.out[1]), nil
}

// call runs the named op under the backend's lock and turns a failure into
// an error carrying the library's message.
func (b *Backend) call(name string, a *args, h0, h1 unsafe.Pointer) error {
	fn, err := b.lib.opFn(name)
	if err != nil {
		return fmt.Errorf("cuda: %v: %w", err, ErrDevice)
	}
	if b.elem == 2 && !bf16Ops[name] {
		return fmt.Errorf("cuda: %s is not available with bf16 storage: %w", name, tensor.ErrUnsupported)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("cuda: %s on a closed backend: %w", name, tensor.ErrArgument)
	}
	rc := b.ctx.call(fn, a, h0, h1)
	if rc == statusOK {
		return nil
	}
	msg := b.ctx.lastError()
	if rc == statusArgument {
		return fmt.Errorf("cuda: %s: %s: %w", name, msg, tensor.ErrArgument)
	}
	return fmt.Errorf("cuda: %s: %s: %w", name, msg, ErrDevice)
}

// bf16Ops are the library entry points that support bf16 storage.
var bf16Ops = map[string]bool{
	"bc_device_info": true, "bc_alloc": true, "bc_free": true, "bc_trim": true, "bc_upload": true,
	"bc_download": true, "bc_copy": true, "bc_fill": true, "bc_sync": true, "bc_set_math": true,
	"bc_set_precision": true, "bc_gemm": true, "bc_add": true, "bc_add_bias": true, "bc_activate": true,
	"bc_layernorm": true, "bc_embedding": true, "bc_attention": true, "bc_linear": true,
}

// storage is device memory holding n float32 values (or n int8 values for
// an Int8Matrix, whose scales follow at scaleOff).
type storage struct {
	b     *Backend
	ptr   uint64
	n     int
	freed bool
	// int8 matrices only: the scales' device pointer.
	scales uint64
}

func (s *storage) Len() int { return s.n }

func (s *storage) release() {
	if s.freed {
		return
	}
	s.freed = true
	for _, p := range []uint64{s.ptr, s.scales} {
		if p != 0 {
			a := args{}
			a.p[0] = p
			_ = s.b.call("bc_free", &a, nil, nil)
		}
	}
	s.ptr, s.scales = 0, 0
}

// alloc returns device storage of bytes bytes for n elements.
func (b *Backend) alloc(n, bytes int) (*storage, error) {
	s := &storage{b: b, n: n}
	if bytes > 0 {
		a := args{}
		a.i[0] = int64(bytes)
		if err := b.call("bc_alloc", &a, nil, nil); err != nil {
			return nil, err
		}
		s.ptr = a.p[0]
	}
	runtime.SetFinalizer(s, func(s *storage) { s.release() })
	return s, nil
}

// dev returns the device pointer of t after checking that t is live storage
// of this backend; nil gives 0.
func (b *Backend) dev(op string, t *tensor.Tensor) (uint64, error) {
	if t == nil {
		return 0, nil
	}
	s, ok := t.Storage().(*storage)
	if !ok || s.b != b {
		return 0, fmt.Errorf("%s: %v: %w", op, t, tensor.ErrBackend)
	}
	if s.freed {
		return 0, fmt.Errorf("%s: %v was freed: %w", op, t, tensor.ErrArgument)
	}
	return s.ptr, nil
}

// ptrs fills a.p[first:] with the device pointers of ts.
func (b *Backend) ptrs(op string, a *args, first int, ts ...*tensor.Tensor) error {
	for i, t := range ts {
		p, err := b.dev(op, t)
		if err != nil {
			return err
		}
		a.p[first+i] = p
	}
	return nil
}

// Name implements tensor.Memory.
func (b *Backend) Name() string { return b.name }

// New implements tensor.Memory.
func (b *Backend) New(shape ...int) (*tensor.Tensor, error) {
	t, err := b.empty("New", shape)
	if err != nil {
		return nil, err
	}
	return t, b.Fill(t, 0)
}

func (b *Backend) empty(op string, shape []int) (*tensor.Tensor, error) {
	n, err := tensor.SizeOf(shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	s, err := b.alloc(n, b.elem*n)
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w", op, shape, err)
	}
	return tensor.Wrap(s, shape...)
}

// FromSlice implements tensor.Memory.
func (b *Backend) FromSlice(data []float32, shape ...int) (*tensor.Tensor, error) {
	n, err := tensor.SizeOf(shape)
	if err != nil {
		return nil, fmt.Errorf("FromSlice: %w", err)
	}
	if n != len(data) {
		return nil, fmt.Errorf("FromSlice: %d values for shape %v: %w", len(data), shape, tensor.ErrShape)
	}
	t, err := b.empty("FromSlice", shape)
	if err != nil {
		return nil, err
	}
	return t, b.Upload(t, data)
}

// Upload implements tensor.Memory.
func (b *Backend) Upload(dst *tensor.Tensor, data []float32) error {
	const op = "Upload"
	if dst == nil {
		return fmt.Errorf("%s: dst is nil: %w", op, tensor.ErrArgument)
	}
	var a args
	if err := b.ptrs(op, &a, 0, dst); err != nil {
		return err
	}
	if len(data) != dst.Size() {
		return fmt.Errorf("%s: %d values into %v: %w", op, len(data), dst, tensor.ErrShape)
	}
	if len(data) == 0 {
		return nil
	}
	if b.elem == 2 {
		h := toBF16(data)
		a.i[0] = int64(2 * len(h))
		return b.call("bc_upload", &a, unsafe.Pointer(&h[0]), nil)
	}
	a.i[0] = int64(4 * len(data))
	return b.call("bc_upload", &a, unsafe.Pointer(&data[0]), nil)
}

// ToSlice implements tensor.Memory.
func (b *Backend) ToSlice(t *tensor.Tensor) ([]float32, error) {
	if t == nil {
		return nil, fmt.Errorf("ToSlice: nil tensor: %w", tensor.ErrArgument)
	}
	out := make([]float32, t.Size())
	return out, b.Download(out, t)
}

// Download implements tensor.Memory.
func (b *Backend) Download(dst []float32, t *tensor.Tensor) error {
	const op = "Download"
	if t == nil {
		return fmt.Errorf("%s: nil tensor: %w", op, tensor.ErrArgument)
	}
	var a args
	if err := b.ptrs(op, &a, 0, t); err != nil {
		return err
	}
	if len(dst) != t.Size() {
		return fmt.Errorf("%s: %v into %d values: %w", op, t, len(dst), tensor.ErrShape)
	}
	if len(dst) == 0 {
		return nil
	}
	if b.elem == 2 {
		h := make([]uint16, len(dst))
		a.i[0] = int64(2 * len(h))
		if err := b.call("bc_download", &a, nil, unsafe.Pointer(&h[0])); err != nil {
			return err
		}
		fromBF16(dst, h)
		return nil
	}
	a.i[0] = int64(4 * len(dst))
	return b.call("bc_download", &a, nil, unsafe.Pointer(&dst[0]))
}

// Copy implements tensor.Memory.
func (b *Backend) Copy(dst, src *tensor.Tensor) error {
	const op = "Copy"
	if err := tensor.CheckSameShape(op, dst, src); err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dst, src); err != nil {
		return err
	}
	a.i[0] = int64(b.elem * dst.Size())
	return b.call("bc_copy", &a, nil, nil)
}

// Fill implements tensor.Memory.
func (b *Backend) Fill(dst *tensor.Tensor, v float32) error {
	const op = "Fill"
	if dst == nil {
		return fmt.Errorf("%s: dst is nil: %w", op, tensor.ErrArgument)
	}
	var a args
	if err := b.ptrs(op, &a, 0, dst); err != nil {
		return err
	}
	a.i[0] = int64(dst.Size())
	a.f[0] = v
	return b.call("bc_fill", &a, nil, nil)
}

// Free implements tensor.Memory.
func (b *Backend) Free(t *tensor.Tensor) {
	if t == nil {
		return
	}
	if s, ok := t.Storage().(*storage); ok && s.b == b {
		s.release()
	}
}

// hostPtr returns a pointer to the first element of a non-empty slice, or nil.
func hostPtr[E any](s []E) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(&s[0])
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

// toBF16 rounds float32 values to bfloat16 (to nearest, ties to even; NaN stays NaN).
func toBF16(v []float32) []uint16 {
	out := make([]uint16, len(v))
	for i, f := range v {
		u := math.Float32bits(f)
		if u&0x7fffffff > 0x7f800000 {
			out[i] = uint16(u>>16) | 0x40
			continue
		}
		out[i] = uint16((u + 0x7fff + (u>>16)&1) >> 16)
	}
	return out
}

// fromBF16 widens bfloat16 values to float32.
func fromBF16(dst []float32, h []uint16) {
	for i, v := range h {
		dst[i] = math.Float32frombits(uint32(v) << 16)
	}
}
