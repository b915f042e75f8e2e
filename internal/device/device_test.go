package device

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bingli/bingli/core/tensor/cpu"
)

func TestOpen(t *testing.T) {
	// No CUDA library anywhere Open looks: the test binary's folder and the
	// package folder have none, and the variable points nowhere.
	t.Setenv("BINGLI_CUDA_LIB", t.TempDir()+"/none.so")
	for _, tc := range []struct {
		name     string
		wantNote bool
	}{{"cpu", false}, {"", false}, {"auto", false}, {"cuda", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var warn bytes.Buffer
			b, done, err := Open(tc.name, 2, &warn)
			if err != nil {
				t.Fatal(err)
			}
			defer done()
			c, ok := b.(*cpu.Backend)
			if !ok || c.Threads() != 2 {
				t.Fatalf("got %s, want the CPU backend with 2 threads", Describe(b))
			}
			note := warn.String()
			if tc.wantNote != (note != "") {
				t.Fatalf("note %q, want one: %v", note, tc.wantNote)
			}
			if tc.wantNote && (strings.Count(note, "\n") != 1 || !strings.Contains(note, "CPU backend (2 threads)")) {
				t.Fatalf("note %q should be one line naming the CPU backend", note)
			}
		})
	}
	if _, _, err := Open("gpu", 1, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "cpu, cuda or auto") {
		t.Fatalf("Open(gpu): %v", err)
	}
}
