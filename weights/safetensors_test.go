package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// raw assembles a safetensors file from a literal header and data, padding
// nothing: the tests control every byte.
func raw(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func mustWrite(t *testing.T, f *File) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := f.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func TestRoundTripEveryDType(t *testing.T) {
	tests := []struct {
		name  string
		in    Tensor
		check func(t *testing.T, got *Tensor)
	}{
		{"F32", FromFloat32("w", []int{2, 3}, []float32{0, 1.5, -2, float32(math.Inf(1)), 1e-30, -0}), func(t *testing.T, got *Tensor) {
			v, err := got.Float32()
			want := []float32{0, 1.5, -2, float32(math.Inf(1)), 1e-30, -0}
			if err != nil || !reflect.DeepEqual(v, want) {
				t.Errorf("got %v, %v; want %v", v, err, want)
			}
		}},
		{"F16", FromFloat16("h", []int{4}, []float32{0.5, -65504, 6.1035156e-05, 5.9604645e-08}), func(t *testing.T, got *Tensor) {
			v, err := got.Float32()
			want := []float32{0.5, -65504, 6.1035156e-05, 5.9604645e-08}
			if err != nil || !reflect.DeepEqual(v, want) {
				t.Errorf("got %v, %v; want %v", v, err, want)
			}
		}},
		{"BF16", FromBFloat16("b", []int{3}, []float32{1, -0.15625, 256}), func(t *testing.T, got *Tensor) {
			v, err := got.Float32()
			want := []float32{1, -0.15625, 256}
			if err != nil || !reflect.DeepEqual(v, want) {
				t.Errorf("got %v, %v; want %v", v, err, want)
			}
		}},
		{"F64", FromFloat64("d", []int{2}, []float64{math.Pi, -1e-300}), func(t *testing.T, got *Tensor) {
			v, err := got.Float64()
			want := []float64{math.Pi, -1e-300}
			if err != nil || !reflect.DeepEqual(v, want) {
				t.Errorf("got %v, %v; want %v", v, err, want)
			}
			f, err := got.Float32()
			if err != nil || f[0] != float32(math.Pi) {
				t.Errorf("Float32 of F64: %v, %v", f, err)
			}
		}},
		{"I8", FromInt8("q", []int{2, 2}, []int8{-128, -1, 0, 127}), func(t *testing.T, got *Tensor) {
			v, err := got.Int8()
			if err != nil || !reflect.DeepEqual(v, []int8{-128, -1, 0, 127}) {
				t.Errorf("got %v, %v", v, err)
			}
		}},
		{"U8", FromUint8("u", []int{3}, []uint8{0, 1, 255}), func(t *testing.T, got *Tensor) {
			v, err := got.Uint8()
			if err != nil || !reflect.DeepEqual(v, []uint8{0, 1, 255}) {
				t.Errorf("got %v, %v", v, err)
			}
		}},
		{"I32", FromInt32("i", []int{2}, []int32{math.MinInt32, 7}), func(t *testing.T, got *Tensor) {
			v, err := got.Int32()
			if err != nil || !reflect.DeepEqual(v, []int32{math.MinInt32, 7}) {
				t.Errorf("got %v, %v", v, err)
			}
		}},
		{"I64", FromInt64("l", []int{1, 2}, []int64{math.MinInt64, 1 << 40}), func(t *testing.T, got *Tensor) {
			v, err := got.Int64()
			if err != nil || !reflect.DeepEqual(v, []int64{math.MinInt64, 1 << 40}) {
				t.Errorf("got %v, %v", v, err)
			}
		}},
		{"scalar", FromFloat32("s", []int{}, []float32{42}), func(t *testing.T, got *Tensor) {
			if v, err := got.Float32(); err != nil || len(v) != 1 || v[0] != 42 || len(got.Shape) != 0 {
				t.Errorf("got %v %v, %v", got.Shape, v, err)
			}
		}},
		{"empty", FromFloat32("e", []int{0, 5}, nil), func(t *testing.T, got *Tensor) {
			if v, err := got.Float32(); err != nil || len(v) != 0 || !reflect.DeepEqual(got.Shape, []int{0, 5}) {
				t.Errorf("got %v %v, %v", got.Shape, v, err)
			}
		}},
	}
	// The raw-byte dtypes: written and read back byte for byte.
	for _, d := range []DType{BOOL, F8E5M2, F8E4M3, I16, U16, U32, U64} {
		data := make([]byte, 3*d.Size())
		for i := range data {
			data[i] = byte(i*37 + 1)
		}
		if d == BOOL {
			data = []byte{0, 1, 1}
		}
		tests = append(tests, struct {
			name  string
			in    Tensor
			check func(t *testing.T, got *Tensor)
		}{d.String(), Tensor{Name: "r", DType: d, Shape: []int{3}, Data: data}, func(t *testing.T, got *Tensor) {
			if !bytes.Equal(got.Data, data) {
				t.Errorf("got %v, want %v", got.Data, data)
			}
		}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &File{Metadata: map[string]string{"format": "pt"}}
			if err := f.Add(tc.in); err != nil {
				t.Fatal(err)
			}
			b := mustWrite(t, f)
			if (binary.LittleEndian.Uint64(b))%8 != 0 {
				t.Errorf("header length %d not a multiple of 8", binary.LittleEndian.Uint64(b))
			}
			g, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g.Metadata, f.Metadata) {
				t.Errorf("metadata %v, want %v", g.Metadata, f.Metadata)
			}
			got, err := g.Get(tc.in.Name)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(&tc.in) {
				t.Errorf("got %+v, want %+v", got, tc.in)
			}
			tc.check(t, got)
			if b2 := mustWrite(t, g); !bytes.Equal(b, b2) {
				t.Errorf("rewrite differs")
			}
		})
	}
}

func TestAccessorWrongDType(t *testing.T) {
	x := FromInt8("q", []int{2}, []int8{1, 2})
	if _, err := x.Float32(); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "tensor q: dtype I8 cannot be read as") {
		t.Errorf("Float32 of I8: %v", err)
	}
	y := FromFloat32("w", []int{3}, []float32{1, 2}) // shape/data mismatch
	if _, err := y.Float32(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "tensor w: shape [3] of F32 needs 12 bytes, data has 8") {
		t.Errorf("inconsistent tensor: %v", err)
	}
	if _, err := (&File{Tensors: []Tensor{y}}).WriteTo(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "tensor w:") {
		t.Errorf("WriteTo of inconsistent tensor: %v", err)
	}
}

// TestReferenceLayout checks Go against files laid out byte by byte as the
// reference Rust/Python safetensors library writes them (serde_json compact
// header, "__metadata__" first, tensors by decreasing dtype alignment then
// name, space padding to 8): Go must read them and write identical bytes.
func TestReferenceLayout(t *testing.T) {
	tests := []struct {
		name   string
		header string // before padding
		data   []byte
		file   *File
	}{
		{
			// The reference library's own test_serialization: 64-byte header, no padding.
			name:   "attn.0",
			header: `{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`,
			data:   f32bytes(0, 1, 2, 3, 4, 5),
			file:   &File{Tensors: []Tensor{FromFloat32("attn.0", []int{1, 2, 3}, []float32{0, 1, 2, 3, 4, 5})}},
		},
		{
			// test_serialization_forced_alignement: 65 bytes padded to 72.
			name:   "attn0",
			header: `{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}`,
			data:   f32bytes(0, 1, 2, 3, 4, 5),
			file:   &File{Tensors: []Tensor{FromFloat32("attn0", []int{1, 1, 2, 3}, []float32{0, 1, 2, 3, 4, 5})}},
		},
		{
			name:   "empty with metadata",
			header: `{"__metadata__":{"framework":"pt"}}`,
			file:   &File{Metadata: map[string]string{"framework": "pt"}},
		},
		{
			name:   "empty",
			header: `{}`,
			file:   &File{},
		},
		{
			// Mixed dtypes given in another order: I64 first, then F32, then I8.
			name: "mixed",
			header: `{"__metadata__":{"a":"1","b":"x\"y\\\n\u001f<&>é"},` +
				`"c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},` +
				`"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},` +
				`"z":{"dtype":"F32","shape":[],"data_offsets":[16,20]},` +
				`"b":{"dtype":"I8","shape":[3],"data_offsets":[20,23]}}`,
			data: append(append(append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
				f32bytes(1, -1)...), f32bytes(9)...), 1, 2, 0xfe),
			file: &File{
				Metadata: map[string]string{"b": "x\"y\\\n\x1f<&>é", "a": "1"},
				Tensors: []Tensor{
					FromInt8("b", []int{3}, []int8{1, 2, -2}),
					FromFloat32("z", nil, []float32{9}),
					FromFloat32("a", []int{2}, []float32{1, -1}),
					FromInt64("c", []int{1}, []int64{-1}),
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			for len(h)%8 != 0 {
				h += " "
			}
			want := raw(h, tc.data)
			got := mustWrite(t, tc.file)
			if !bytes.Equal(got, want) {
				t.Fatalf("Go wrote\n%q\nreference layout is\n%q", got, want)
			}
			f, err := Parse(want)
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Tensors) != len(tc.file.Tensors) {
				t.Fatalf("read %d tensors, want %d", len(f.Tensors), len(tc.file.Tensors))
			}
			for i := range tc.file.Tensors {
				w := &tc.file.Tensors[i]
				g, err := f.Get(w.Name)
				if err != nil || !g.Equal(w) {
					t.Errorf("tensor %s: got %+v, %v; want %+v", w.Name, g, err, w)
				}
			}
			if tc.file.Metadata != nil && !reflect.DeepEqual(f.Metadata, tc.file.Metadata) {
				t.Errorf("metadata %v, want %v", f.Metadata, tc.file.Metadata)
			}
		})
	}
}

func TestReadAcceptsOtherLayouts(t *testing.T) {
	// Name-ordered (older writers), pretty-printed, unpadded or over-padded
	// headers are all valid.
	data := append(f32bytes(1, 2), 7)
	for _, h := range []string{
		`{"b":{"dtype":"I8","shape":[1],"data_offsets":[8,9]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`,
		"{\n  \"a\": {\"shape\": [2], \"data_offsets\": [0, 8], \"dtype\": \"F32\"},\n  \"b\": {\"dtype\": \"I8\", \"shape\": [1], \"data_offsets\": [8, 9]}\n}\n\t   ",
		`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I8","shape":[1],"data_offsets":[8,9]},"__metadata__":{}}` + strings.Repeat(" ", 100),
	} {
		f, err := Parse(raw(h, data))
		if err != nil {
			t.Fatalf("%q: %v", h, err)
		}
		if len(f.Tensors) != 2 || f.Tensors[0].Name != "a" || f.Tensors[1].Name != "b" {
			t.Errorf("%q: tensors not in offset order: %+v", h, f.Tensors)
		}
	}
}

func TestCorruptFiles(t *testing.T) {
	d16 := f32bytes(1, 2, 3, 4)
	hugeHeader := make([]byte, 8)
	binary.LittleEndian.PutUint64(hugeHeader, 200_000_000)
	tests := []struct {
		name  string
		in    []byte
		is    error
		wants string
	}{
		{"shorter than 8 bytes", []byte{1, 2, 3}, ErrInvalid, "shorter than the 8-byte header length"},
		{"header past end", []byte{100, 0, 0, 0, 0, 0, 0, 0, '{', '}'}, ErrInvalid, "header length 100 runs past the end"},
		{"header absurdly large", hugeHeader, ErrTooLarge, "header length 200000000 exceeds"},
		{"header length overflows", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'}, ErrTooLarge, "exceeds"},
		{"invalid JSON", raw(`{"w":{"dtype":"F32",`, nil), ErrInvalid, "tensor w: header JSON"},
		{"invalid JSON after name", raw(`{"w"}`, nil), ErrInvalid, "tensor w: header entry is not a JSON object"},
		{"invalid JSON at top", raw(`{,}`, nil), ErrInvalid, "header JSON"},
		{"not an object", raw(`[1,2]`, nil), ErrInvalid, "does not start with '{'"},
		{"invalid UTF-8", raw("{\"\xff\":{}}", nil), ErrInvalid, "not valid UTF-8"},
		{"garbage after JSON", raw(`{} x`, nil), ErrInvalid, "non-whitespace bytes after"},
		{"unknown dtype", raw(`{"w":{"dtype":"F33","shape":[4],"data_offsets":[0,16]}}`, d16), ErrInvalid, `tensor w: unknown dtype "F33"`},
		{"size mismatch", raw(`{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}`, d16), ErrInvalid, "tensor w: shape [2 3] of F32 needs 24 bytes, data_offsets [0, 16] span 16"},
		{"offsets past buffer", raw(`{"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}`, d16), ErrInvalid, "tensor w: data_offsets [0, 32] run past the 16-byte data buffer"},
		{"truncated data", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}`, d16), ErrInvalid, "tensor b: data_offsets [8, 24] run past the 16-byte data buffer (truncated file?)"},
		{"overlap", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, d16[:12]), ErrInvalid, "tensor b: data_offsets [4, 12] overlap the previous tensor ending at 8"},
		{"hole", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, d16), ErrInvalid, "tensor b: data_offsets [8, 16] leave a hole after byte 4"},
		{"hole at start", raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, d16[:8]), ErrInvalid, "tensor a: data_offsets [4, 8] leave a hole after byte 0"},
		{"trailing bytes", raw(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, d16), ErrInvalid, "data buffer has 16 bytes but the tensors cover 8"},
		{"begin after end", raw(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, d16), ErrInvalid, "tensor w: data_offsets [8, 0] out of range"},
		{"negative offset", raw(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, d16), ErrInvalid, "tensor w: data_offsets [-4, 0] out of range"},
		{"negative dim", raw(`{"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}}`, d16), ErrInvalid, "tensor w: shape [-1 4]: dimension 0 is negative"},
		{"fractional dim", raw(`{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,16]}}`, d16), ErrInvalid, "tensor w: shape is not an array of integers"},
		{"null shape", raw(`{"w":{"dtype":"F32","shape":null,"data_offsets":[0,16]}}`, d16), ErrInvalid, "tensor w: shape is not an array of integers"},
		{"shape overflows", raw(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}}`, d16), ErrInvalid, "tensor w: shape [4294967296 4294967296]: element count overflows"},
		{"duplicate name", raw(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}`, d16), ErrInvalid, "tensor w: duplicate name in header"},
		{"empty name", raw(`{"":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, d16), ErrInvalid, "tensor with an empty name"},
		{"unknown key", raw(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16],"extra":1}}`, d16), ErrInvalid, `tensor w: unknown key "extra"`},
		{"missing key", raw(`{"w":{"dtype":"F32","shape":[4]}}`, d16), ErrInvalid, "tensor w: header entry needs dtype, shape and data_offsets"},
		{"duplicate key", raw(`{"w":{"dtype":"F32","dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, d16), ErrInvalid, "tensor w: duplicate key dtype"},
		{"three offsets", raw(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8,16]}}`, d16), ErrInvalid, "tensor w: data_offsets [0 8 16]: want [begin, end]"},
		{"entry not object", raw(`{"w":5}`, nil), ErrInvalid, "tensor w: header entry is not a JSON object"},
		{"metadata not strings", raw(`{"__metadata__":{"epochs":3}}`, nil), ErrInvalid, `__metadata__: value of "epochs" is not a string`},
		{"metadata twice", raw(`{"__metadata__":{},"__metadata__":{}}`, nil), ErrInvalid, "tensor __metadata__: duplicate name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.in)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q does not wrap %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.wants) {
				t.Errorf("error %q\nwant it to contain %q", err, tc.wants)
			}
		})
	}
}

func TestExpect(t *testing.T) {
	f := &File{}
	if err := f.Add(FromFloat32("tagger.gru.w_ih", []int{384, 64}, make([]float32, 384*64))); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		dtype DType
		shape []int
		want  string // "" means success
		is    error
	}{
		{"tagger.gru.w_ih", F32, []int{384, 64}, "", nil},
		{"tagger.gru.w_ih", F32, []int{-1, 64}, "", nil},
		{"tagger.gru.w_ih", F32, []int{384, 128}, "tensor tagger.gru.w_ih: want shape [384 128], got [384 64]", ErrMismatch},
		{"tagger.gru.w_ih", F32, []int{384}, "tensor tagger.gru.w_ih: want shape [384], got [384 64]", ErrMismatch},
		{"tagger.gru.w_ih", BF16, []int{384, 64}, "tensor tagger.gru.w_ih: want dtype BF16, got F32", ErrMismatch},
		{"tagger.gru.b_ih", F32, []int{384}, "tensor tagger.gru.b_ih: not found", ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			got, err := f.Expect(tc.name, tc.dtype, tc.shape...)
			if tc.want == "" {
				if err != nil || got.Name != tc.name {
					t.Fatalf("got %v, %v", got, err)
				}
				return
			}
			if err == nil || !errors.Is(err, tc.is) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want prefix %q wrapping %v", err, tc.want, tc.is)
			}
		})
	}
}

func TestAddAndWriteValidation(t *testing.T) {
	tests := []struct {
		name string
		t    Tensor
		want string
	}{
		{"duplicate", FromFloat32("w", []int{1}, []float32{1}), "tensor w: duplicate name"},
		{"reserved", FromFloat32("__metadata__", []int{1}, []float32{1}), "reserved for metadata"},
		{"empty", FromFloat32("", []int{1}, []float32{1}), "empty name"},
		{"bad UTF-8", FromFloat32("w\xff", []int{1}, []float32{1}), "not valid UTF-8"},
		{"negative dim", Tensor{Name: "n", DType: F32, Shape: []int{-1}}, "tensor n: shape [-1] has a negative dimension"},
		{"zero dtype", Tensor{Name: "z", Shape: []int{1}, Data: []byte{0}}, "tensor z: invalid dtype"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &File{Tensors: []Tensor{FromFloat32("w", []int{1}, []float32{0})}}
			if err := f.Add(tc.t); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Add: %v, want %q", err, tc.want)
			}
			f.Tensors = append(f.Tensors, tc.t)
			if _, err := f.WriteTo(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("WriteTo: %v, want %q", err, tc.want)
			}
		})
	}
}
