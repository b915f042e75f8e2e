package cpu_test

import (
	"testing"

	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/core/tensor/backendtest"
	"github.com/bingli/bingli/core/tensor/cpu"
)

func TestConformance(t *testing.T) {
	for _, threads := range []int{1, 2} {
		t.Run(map[int]string{1: "threads=1", 2: "threads=2"}[threads], func(t *testing.T) {
			backendtest.Run(t, func() tensor.Backend { return cpu.New(threads) })
		})
	}
}
