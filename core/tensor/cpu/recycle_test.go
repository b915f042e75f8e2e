package cpu

import (
	"testing"
	"unsafe"
)

// TestRecycle checks that with Recycle on, a freed tensor's buffer goes to the next New of
// the same capacity class, cleared; that the freed tensor stays unusable; that small tensors
// and a full recycler fall back to allocating; and that Recycle(0) turns it off.
func TestRecycle(t *testing.T) {
	be := New(1)
	be.Recycle(1 << 20) // room for one 256K-float buffer, not two
	ptr := func(x []float32) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(x))) }
	a, err := be.New(100, 50) // 5,000 floats: class 8,192
	if err != nil {
		t.Fatal(err)
	}
	if err := be.Fill(a, 3); err != nil {
		t.Fatal(err)
	}
	pa := ptr(f32(a))
	be.Free(a)
	be.Free(a) // twice: no effect
	if err := be.Fill(a, 1); err == nil {
		t.Fatal("a freed tensor still works")
	}
	b, _ := be.New(7000) // same class
	if ptr(f32(b)) != pa {
		t.Fatal("the freed buffer was not reused")
	}
	if len(f32(b)) != 7000 || b.Size() != 7000 {
		t.Fatalf("reused buffer has %d floats, want 7000", len(f32(b)))
	}
	for i, v := range f32(b) {
		if v != 0 {
			t.Fatalf("reused buffer not cleared: [%d] = %v", i, v)
		}
	}
	c, _ := be.New(7000) // nothing free: a fresh buffer
	if ptr(f32(c)) == pa {
		t.Fatal("one buffer handed out twice")
	}
	// Small tensors are not kept.
	s, _ := be.New(10)
	be.Free(s)
	if n := be.recycle.bytes; n != 0 {
		t.Fatalf("recycler holds %d bytes after freeing a small tensor", n)
	}
	// The byte limit: a 256K-float buffer (1 MiB) fits, a second one does not.
	x, _ := be.New(1 << 18)
	y, _ := be.New(1 << 18)
	be.Free(x)
	be.Free(y)
	if n := be.recycle.bytes; n != 1<<20 {
		t.Fatalf("recycler holds %d bytes, want %d", n, 1<<20)
	}
	// Off: buffers are neither kept nor reused.
	be.Recycle(0)
	pb := ptr(f32(b))
	be.Free(b)
	d, _ := be.New(7000)
	if ptr(f32(d)) == pb {
		t.Fatal("buffer reused with recycling off")
	}
}

// TestRecycleGRU checks that recycled buffers leave a recurrent call's results unchanged.
func TestRecycleGRU(t *testing.T) {
	ref := New(1)
	want := newRNNCase(t, ref, 3, 9, 6, 96, 64, true).run(t, ref, 3)
	be := New(1)
	be.Recycle(64 << 20)
	for range 3 {
		rc := newRNNCase(t, be, 3, 9, 6, 96, 64, true)
		if got := rc.run(t, be, 3); !sameBits(got, want) {
			t.Fatal("recycled buffers change the GRU's result")
		}
		be.Free(rc.seq.Out)
		be.Free(rc.seq.Work)
		be.Free(rc.seq.X)
	}
}
