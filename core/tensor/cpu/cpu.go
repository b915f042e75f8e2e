// Package cpu is the pure-Go reference implementation of tensor.Backend.
//
// Tensors are plain []float32 slices in row-major order. Matrix products
// use a packed, register-blocked GEMM whose micro-kernel is AVX2/FMA
// assembly on amd64 (when the CPU supports it and the purego build tag is
// absent) and portable Go elsewhere, including GOOS=js GOARCH=wasm. Large
// products, attention heads and recurrent batches are split across a
// configurable number of goroutines.
//
// Every op follows the contracts documented on tensor.Backend; package
// tensor/backendtest verifies them.
package cpu

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/bingli/bingli/core/tensor"
)

// Backend is the CPU backend. Its methods are safe for concurrent use on
// distinct destination tensors.
type Backend struct {
	threads int
	recycle *recycler // nil unless Recycle enabled it
}

// recycler keeps the buffers of freed tensors for later New calls (Backend.Recycle): lists of
// free slices by capacity class (a power of two of floats), at most max bytes in all.
type recycler struct {
	mu         sync.Mutex
	free       [64][][]float32
	bytes, max int
}

// minRecycle is the smallest tensor (floats) whose buffer is recycled; smaller ones are cheap
// for Go's allocator.
const minRecycle = 4096

// Recycle makes the backend keep the buffers of freed tensors of at least minRecycle floats,
// up to maxBytes in all, and hand them to later New calls (cleared, as New's contract
// requires) instead of allocating: for an inference loop that frees its activations after
// each call (the browser engine allocated about 1.2 MB of work tensors per 200-character
// record). Buffers are allocated with a power-of-two capacity so freed ones fit later
// requests of other sizes. maxBytes ≤ 0 turns recycling off (and drops what was kept).
// Freeing a tensor hands its buffer on, so no op may use a freed tensor or its views, which
// Free's contract already forbids (they fail with an error).
func (c *Backend) Recycle(maxBytes int) {
	if maxBytes <= 0 {
		c.recycle = nil
		return
	}
	c.recycle = &recycler{max: maxBytes}
}

// alloc returns n zeroed floats, from the recycler when it has a buffer of n's class.
func (c *Backend) alloc(n int) []float32 {
	r := c.recycle
	if r == nil || n < minRecycle {
		return make([]float32, n)
	}
	class := bits.Len(uint(n - 1))
	r.mu.Lock()
	if l := r.free[class]; len(l) > 0 {
		d := l[len(l)-1]
		l[len(l)-1] = nil
		r.free[class] = l[:len(l)-1]
		r.bytes -= 4 * cap(d)
		r.mu.Unlock()
		d = d[:n]
		clear(d)
		return d
	}
	r.mu.Unlock()
	return make([]float32, n, 1<<class)
}

// release hands d to the recycler when it is one of its classes and there is room.
func (c *Backend) release(d []float32) {
	r := c.recycle
	if r == nil || cap(d) < minRecycle || cap(d)&(cap(d)-1) != 0 {
		return
	}
	class := bits.Len(uint(cap(d) - 1))
	r.mu.Lock()
	if r.bytes+4*cap(d) <= r.max {
		r.free[class] = append(r.free[class], d[:0])
		r.bytes += 4 * cap(d)
	}
	r.mu.Unlock()
}

// New returns a CPU backend that uses up to threads goroutines per op;
// threads ≤ 0 means runtime.GOMAXPROCS(0).
func New(threads int) *Backend {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &Backend{threads: threads}
}

// Threads returns the number of goroutines an op may use.
func (c *Backend) Threads() int { return c.threads }

// storage is the CPU's tensor.Storage.
type storage struct {
	data []float32
	// frozen is set by Freeze: the values will not change again, so derived layouts of them
	// (packs: the packed GEMM panels of a weight) may be computed once and kept.
	frozen atomic.Bool
	mu     sync.Mutex
	packs  map[packKey]*packedB
}

// packKey identifies one packed layout of a frozen storage: op(B) (k×n, row stride ldb,
// transposed when transB) starting at element 0.
type packKey struct {
	transB    bool
	ldb, k, n int
}

// thaw drops the frozen mark and the cached layouts (the values are about to change).
func (s *storage) thaw() {
	if !s.frozen.Load() {
		return
	}
	s.mu.Lock()
	s.frozen.Store(false)
	s.packs = nil
	s.mu.Unlock()
}

// Freeze marks the tensors as immutable from now on, the promise an inference engine can
// make for its weights: the recurrent ops then pack a frozen weight into the GEMM's panel
// layout once and reuse it at every call instead of packing it again each time (the
// browser's small records spent a few percent of their time repacking the same weights).
// The cached panels are exact copies, so results do not change. A frozen tensor must not be
// written by any op afterwards; Upload, Copy and Fill into it thaw it (and drop the
// cache) first, and Free drops it. Views share their storage, so freezing a view freezes
// the whole storage.
func (c *Backend) Freeze(ts ...*tensor.Tensor) error {
	if err := own("Freeze", ts...); err != nil {
		return err
	}
	for _, t := range ts {
		if t != nil {
			t.Storage().(*storage).frozen.Store(true)
		}
	}
	return nil
}

// packedWeight returns the packed panels of op(B) for the frozen tensor t's storage (k×n,
// row stride ldb), packing them on first use; nil when t is not frozen or op(B) is too wide
// to prepack (callers then pack as usual).
func packedWeight(t *tensor.Tensor, transB bool, ldb, k, n int) *packedB {
	if t == nil {
		return nil
	}
	s, ok := t.Storage().(*storage)
	if !ok || !s.frozen.Load() {
		return nil
	}
	key := packKey{transB: transB, ldb: ldb, k: k, n: n}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.frozen.Load() {
		return nil
	}
	if pb, ok := s.packs[key]; ok {
		return pb
	}
	pb := prepackB(transB, s.data, ldb, k, n)
	if pb == nil {
		return nil
	}
	if s.packs == nil {
		s.packs = map[packKey]*packedB{}
	}
	s.packs[key] = pb
	return pb
}

func (s *storage) Len() int { return len(s.data) }

// Name implements tensor.Memory.
func (c *Backend) Name() string { return "cpu" }

func (c *Backend) wrap(data []float32, shape []int) (*tensor.Tensor, error) {
	return tensor.Wrap(&storage{data: data}, shape...)
}

// New implements tensor.Memory.
func (c *Backend) New(shape ...int) (*tensor.Tensor, error) {
	n, err := tensor.SizeOf(shape)
	if err != nil {
		return nil, fmt.Errorf("New: %w", err)
	}
	return c.wrap(c.alloc(n), shape)
}

// FromSlice implements tensor.Memory.
func (c *Backend) FromSlice(data []float32, shape ...int) (*tensor.Tensor, error) {
	n, err := tensor.SizeOf(shape)
	if err != nil {
		return nil, fmt.Errorf("FromSlice: %w", err)
	}
	if n != len(data) {
		return nil, fmt.Errorf("FromSlice: %d values for shape %v: %w", len(data), shape, tensor.ErrShape)
	}
	return c.wrap(append([]float32(nil), data...), shape)
}

// Upload implements tensor.Memory.
func (c *Backend) Upload(dst *tensor.Tensor, data []float32) error {
	if err := own("Upload", dst); err != nil {
		return err
	}
	if len(data) != dst.Size() {
		return fmt.Errorf("Upload: %d values into %v: %w", len(data), dst, tensor.ErrShape)
	}
	dst.Storage().(*storage).thaw()
	copy(f32(dst), data)
	return nil
}

// ToSlice implements tensor.Memory.
func (c *Backend) ToSlice(t *tensor.Tensor) ([]float32, error) {
	if err := own("ToSlice", t); err != nil {
		return nil, err
	}
	return append([]float32(nil), f32(t)...), nil
}

// Download implements tensor.Memory.
func (c *Backend) Download(dst []float32, t *tensor.Tensor) error {
	if err := own("Download", t); err != nil {
		return err
	}
	if len(dst) != t.Size() {
		return fmt.Errorf("Download: %v into %d values: %w", t, len(dst), tensor.ErrShape)
	}
	copy(dst, f32(t))
	return nil
}

// Copy implements tensor.Memory.
func (c *Backend) Copy(dst, src *tensor.Tensor) error {
	const op = "Copy"
	if err := tensor.CheckSameShape(op, dst, src); err != nil {
		return err
	}
	if err := own(op, dst, src); err != nil {
		return err
	}
	dst.Storage().(*storage).thaw()
	copy(f32(dst), f32(src))
	return nil
}

// Fill implements tensor.Memory.
func (c *Backend) Fill(dst *tensor.Tensor, v float32) error {
	if err := own("Fill", dst); err != nil {
		return err
	}
	dst.Storage().(*storage).thaw()
	d := f32(dst)
	for i := range d {
		d[i] = v
	}
	return nil
}

// Free implements tensor.Memory: the storage is dropped, so later ops on t
// or its views fail with an error instead of reading stale memory.
func (c *Backend) Free(t *tensor.Tensor) {
	if t == nil {
		return
	}
	if s, ok := t.Storage().(*storage); ok {
		s.thaw()
		if s.data != nil {
			c.release(s.data)
		}
		s.data = nil
	}
}

// own checks that every non-nil tensor is live CPU storage. Nil tensors are
// left to the op's shape check, which knows which ones are optional.
func own(op string, ts ...*tensor.Tensor) error {
	for _, t := range ts {
		if t == nil {
			continue
		}
		s, ok := t.Storage().(*storage)
		if !ok {
			return fmt.Errorf("%s: %v: %w", op, t, tensor.ErrBackend)
		}
		if len(s.data) != t.Size() {
			return fmt.Errorf("%s: %v was freed: %w", op, t, tensor.ErrArgument)
		}
	}
	return nil
}

// f32 returns t's elements; t must have passed own. A nil tensor gives nil.
func f32(t *tensor.Tensor) []float32 {
	if t == nil {
		return nil
	}
	return t.Storage().(*storage).data
}

// parallel runs fn over [0, n) split into at most c.threads contiguous
// chunks, each at least grain long; it runs inline when one chunk suffices.
func (c *Backend) parallel(n, grain int, fn func(lo, hi int)) {
	parts := c.threads
	if grain < 1 {
		grain = 1
	}
	if maxParts := n / grain; maxParts < parts {
		parts = maxParts
	}
	if parts <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + parts - 1) / parts
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
