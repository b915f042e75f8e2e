//go:build !linux || !cgo

package cuda

import (
	"errors"
	"unsafe"
)

type library struct{}

type context struct{}

func dlopen(path string) (*library, error) {
	return nil, errors.New("this bingli binary was built without cgo (or not for Linux), so it cannot load the CUDA library")
}

func (l *library) opFn(string) (unsafe.Pointer, error) { return nil, errors.New("no CUDA library") }

func (l *library) newContext(int) (*context, int, error) {
	return nil, 0, errors.New("no CUDA library")
}

func (c *context) close() {}

func (c *context) lastError() string { return "" }

func (c *context) call(unsafe.Pointer, *args, unsafe.Pointer, unsafe.Pointer) int { return statusCUDA }
