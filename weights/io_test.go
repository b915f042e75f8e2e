package weights

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func sampleFile() *File {
	f := &File{Metadata: map[string]string{"format": "pt"}}
	w := make([]float32, 64*32)
	for i := range w {
		w[i] = float32(i%17) * 0.25
	}
	f.Tensors = []Tensor{
		FromFloat32("enc.w", []int{64, 32}, w),
		FromInt64("ids", []int{3}, []int64{1, 2, 3}),
		FromBFloat16("enc.b", []int{2}, []float32{1, -1}),
	}
	return f
}

func TestFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := sampleFile()
	for _, name := range []string{"m.safetensors", "m.safetensors.zst"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := src.WriteFile(p); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			compressed := bytes.HasPrefix(b, zstdMagic)
			if compressed != strings.HasSuffix(name, ".zst") {
				t.Errorf("compressed=%v for %s", compressed, name)
			}
			for _, read := range []func() (*File, error){
				func() (*File, error) { return ReadFile(p) },
				func() (*File, error) { return Read(bytes.NewReader(b)) },
			} {
				f, err := read()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(mustWrite(t, f), mustWrite(t, src)) {
					t.Error("content differs after round trip")
				}
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestZstdErrors(t *testing.T) {
	dir := t.TempDir()
	plain := mustWrite(t, sampleFile())

	t.Run("zst name, plain content", func(t *testing.T) {
		p := filepath.Join(dir, "x.safetensors.zst")
		os.WriteFile(p, plain, 0o644)
		_, err := ReadFile(p)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), p+": name ends in .zst but the content is not zstd") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("plain name, zstd content is detected", func(t *testing.T) {
		z, _ := compress(plain)
		p := filepath.Join(dir, "y.safetensors")
		os.WriteFile(p, z, 0o644)
		if _, err := ReadFile(p); err != nil {
			t.Error(err)
		}
	})
	t.Run("corrupt zstd", func(t *testing.T) {
		z, _ := compress(plain)
		z = z[:len(z)/2]
		if _, err := Parse(z); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "zstd") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("bomb", func(t *testing.T) {
		// 64 MiB of zeros compresses to a few KiB; with a 1 MiB cap it must
		// fail after decoding little more than the cap.
		var buf bytes.Buffer
		enc, _ := zstd.NewWriter(&buf)
		zero := make([]byte, 1<<20)
		for i := 0; i < 64; i++ {
			enc.Write(zero)
		}
		enc.Close()
		if buf.Len() > 64<<10 {
			t.Fatalf("bomb is %d bytes", buf.Len())
		}
		_, err := ParseLimit(buf.Bytes(), 1<<20)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "decompresses to more than the 1048576-byte limit") {
			t.Errorf("got %v", err)
		}
		// The frame header declares its size when encoded in one go.
		single, _ := compress(make([]byte, 8<<20))
		if _, err := ParseLimit(single, 1<<20); !errors.Is(err, ErrTooLarge) {
			t.Errorf("single-frame bomb: %v", err)
		}
	})
	t.Run("plain over limit", func(t *testing.T) {
		if _, err := ParseLimit(plain, 16); !errors.Is(err, ErrTooLarge) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := ReadFile(filepath.Join(dir, "nope.safetensors")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("error names the file", func(t *testing.T) {
		p := filepath.Join(dir, "bad.safetensors")
		os.WriteFile(p, raw(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, []byte{1, 2, 3}), 0o644)
		_, err := ReadFile(p)
		if err == nil || !strings.HasPrefix(err.Error(), p+": tensor w: ") {
			t.Errorf("got %v", err)
		}
	})
}
