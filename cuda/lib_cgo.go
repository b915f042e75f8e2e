//go:build linux && cgo

package cuda

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include "bingli_cuda.h"

typedef int (*bc_open_fn)(int, bc_ctx **, char *, int);
typedef void (*bc_close_fn)(bc_ctx *);
typedef const char *(*bc_error_fn)(bc_ctx *);
typedef int (*bc_version_fn)(void);

static int call_op(void *f, bc_ctx *c, bc_args *a, const void *h0, void *h1) {
	return ((bc_op_fn)f)(c, a, h0, h1);
}
static int call_open(void *f, int dev, bc_ctx **out, char *eb, int el) {
	return ((bc_open_fn)f)(dev, out, eb, el);
}
static void call_close(void *f, bc_ctx *c) { ((bc_close_fn)f)(c); }
static const char *call_error(void *f, bc_ctx *c) { return ((bc_error_fn)f)(c); }
static int call_version(void *f) { return ((bc_version_fn)f)(); }
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// library is an opened libbingli_cuda.so.
type library struct {
	handle                       unsafe.Pointer
	open, close, errmsg, version unsafe.Pointer
	mu                           sync.Mutex
	ops                          map[string]unsafe.Pointer
}

func dlopen(path string) (*library, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	h := C.dlopen(cpath, C.RTLD_NOW|C.RTLD_LOCAL)
	if h == nil {
		return nil, fmt.Errorf("dlopen %s: %s", path, C.GoString(C.dlerror()))
	}
	l := &library{handle: h, ops: map[string]unsafe.Pointer{}}
	for _, s := range []struct {
		name string
		dst  *unsafe.Pointer
	}{{"bc_open", &l.open}, {"bc_close", &l.close}, {"bc_error", &l.errmsg}, {"bc_abi_version", &l.version}} {
		p, err := l.sym(s.name)
		if err != nil {
			return nil, err
		}
		*s.dst = p
	}
	if v := int(C.call_version(l.version)); v != abiVersion {
		return nil, fmt.Errorf("%s has ABI version %d, this binary needs %d: rebuild it with ./build.sh cuda", path, v, abiVersion)
	}
	return l, nil
}

func (l *library) sym(name string) (unsafe.Pointer, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	p := C.dlsym(l.handle, cname)
	if p == nil {
		return nil, fmt.Errorf("symbol %s missing from the CUDA library (stale build?)", name)
	}
	return p, nil
}

// opFn returns the entry point of an op, resolving it once.
func (l *library) opFn(name string) (unsafe.Pointer, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p, ok := l.ops[name]; ok {
		return p, nil
	}
	p, err := l.sym(name)
	if err != nil {
		return nil, err
	}
	l.ops[name] = p
	return p, nil
}

// context is one bc_ctx.
type context struct {
	lib *library
	ctx *C.bc_ctx
}

func (l *library) newContext(device int) (*context, int, error) {
	var ctx *C.bc_ctx
	buf := make([]byte, 512)
	rc := int(C.call_open(l.open, C.int(device), &ctx, (*C.char)(unsafe.Pointer(&buf[0])), C.int(len(buf))))
	if rc != 0 {
		return nil, rc, fmt.Errorf("%s", C.GoString((*C.char)(unsafe.Pointer(&buf[0]))))
	}
	return &context{lib: l, ctx: ctx}, 0, nil
}

func (c *context) close() { C.call_close(c.lib.close, c.ctx) }

func (c *context) lastError() string { return C.GoString(C.call_error(c.lib.errmsg, c.ctx)) }

// call runs one op. h0 and h1 point to host memory that must stay valid for
// the call only.
func (c *context) call(fn unsafe.Pointer, a *args, h0, h1 unsafe.Pointer) int {
	ca := (*C.bc_args)(unsafe.Pointer(a))
	return int(C.call_op(fn, c.ctx, ca, h0, h1))
}

// The Go mirror of bc_args must have the C layout.
var _ = [1]struct{}{}[unsafe.Sizeof(args{})-unsafe.Sizeof(C.bc_args{})]
