package weights

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/go_written.safetensors")

// goWritten is the content of testdata/go_written.safetensors, which
// testdata/interop.py loads with the Python library and compares, byte for
// byte, with what safetensors.torch.save writes for the same tensors.
func goWritten() *File {
	return &File{
		Metadata: map[string]string{"format": "pt"},
		Tensors: []Tensor{
			FromFloat32("f32", []int{2, 3}, []float32{0, 0.5, -1.25, 3, 1024.125, -7.5}),
			FromFloat16("f16", []int{2}, []float32{0.5, -65504}),
			FromBFloat16("bf16", []int{3}, []float32{1, -2.5, 0.15625}),
			FromFloat64("f64", []int{1}, []float64{math.Pi}),
			FromInt8("i8", []int{4}, []int8{-128, -1, 0, 127}),
			FromUint8("u8", []int{2}, []uint8{0, 255}),
			FromInt32("i32", []int{2}, []int32{-7, 7}),
			FromInt64("i64", []int{2, 1}, []int64{-3, 1 << 40}),
		},
	}
}

func TestGoWrittenFixture(t *testing.T) {
	p := filepath.Join("testdata", "go_written.safetensors")
	want := mustWrite(t, goWritten())
	if *update {
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoWrittenFixture -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test -run TestGoWrittenFixture -update", p)
	}
}

// TestTorchWritten reads the file testdata/interop.py writes with PyTorch.
func TestTorchWritten(t *testing.T) {
	p := filepath.Join("testdata", "torch_written.safetensors")
	raw, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		t.Skipf("%s absent: run testdata/interop.py where PyTorch and safetensors are installed (see testdata/README.md)", p)
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata)
	}
	wantF32 := make([]float32, 12)
	for i := range wantF32 {
		wantF32[i] = float32(i)/4 - 1
	}
	floats := []struct {
		name  string
		dtype DType
		shape []int
		want  []float32
	}{
		{"w_f32", F32, []int{3, 4}, wantF32},
		{"w_f16", F16, []int{3}, []float32{0.5, -2, 65504}},
		{"w_bf16", BF16, []int{3}, []float32{1, -0.15625, 256}},
		{"w_f64", F64, []int{2}, []float32{float32(math.Pi), 0}},
	}
	for _, c := range floats {
		tn, err := f.Expect(c.name, c.dtype, c.shape...)
		if err != nil {
			t.Error(err)
			continue
		}
		if v, err := tn.Float32(); err != nil || !reflect.DeepEqual(v, c.want) {
			t.Errorf("%s = %v, %v; want %v", c.name, v, err, c.want)
		}
	}
	ints := []struct {
		name  string
		dtype DType
		shape []int
		want  []int64
	}{
		{"ids_i64", I64, []int{2, 2}, []int64{1, -2, 3, 1 << 40}},
		{"ids_i32", I32, []int{2}, []int64{-7, 7}},
		{"q_i8", I8, []int{3}, []int64{-127, 0, 127}},
		{"mask_u8", U8, []int{3}, []int64{0, 1, 255}},
		{"flag_bool", BOOL, []int{2}, []int64{1, 0}},
	}
	for _, c := range ints {
		tn, err := f.Expect(c.name, c.dtype, c.shape...)
		if err != nil {
			t.Error(err)
			continue
		}
		if v, err := tn.Int64(); err != nil || !reflect.DeepEqual(v, c.want) {
			t.Errorf("%s = %v, %v; want %v", c.name, v, err, c.want)
		}
	}
	// One metadata key, so the Python writer's order is deterministic and
	// Go must reproduce the file exactly.
	if !bytes.Equal(mustWrite(t, f), raw) {
		t.Error("Go does not rewrite torch_written.safetensors byte for byte")
	}
}
