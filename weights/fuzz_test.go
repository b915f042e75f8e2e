package weights

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzRead feeds arbitrary bytes to the loader. It must never panic; what
// it accepts must survive a write/parse round trip unchanged.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	goWritten().WriteTo(&buf)
	f.Add(buf.Bytes())
	z, _ := compress(buf.Bytes())
	f.Add(z)
	small := &File{Metadata: map[string]string{"k": "v"}, Tensors: []Tensor{
		FromFloat32("a", []int{2}, []float32{1, 2}), FromInt8("b.q", []int{1, 1}, []int8{3}),
		FromFloat32("b.scale", []int{1}, []float32{0.5}), FromFloat32("s", nil, []float32{1}),
	}}
	buf.Reset()
	small.WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Add(raw(`{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}`, make([]byte, 16)))
	f.Add(raw(`{"a":{"dtype":"I8","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"I8","shape":[],"data_offsets":[0,1]}}`, []byte{1}))
	f.Add(raw(`{"__metadata__":{"a":"\u00e9\n"}}`, nil))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseLimit(data, 1<<20)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for i := range file.Tensors {
			tn := &file.Tensors[i]
			tn.Float32()
			tn.Int64()
			tn.Int8()
			file.Expect(tn.Name, tn.DType, tn.Shape...)
			if len(tn.Shape) == 2 {
				file.Float32(tn.Name, tn.Shape...)
			}
		}
		var out bytes.Buffer
		if _, err := file.WriteTo(&out); err != nil {
			t.Fatalf("accepted file does not write back: %v", err)
		}
		again, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("written file does not parse: %v", err)
		}
		if !reflect.DeepEqual(again.Metadata, file.Metadata) || len(again.Tensors) != len(file.Tensors) {
			t.Fatalf("round trip changed metadata or tensor count")
		}
		for i := range file.Tensors {
			g, err := again.Get(file.Tensors[i].Name)
			if err != nil || !g.Equal(&file.Tensors[i]) {
				t.Fatalf("round trip changed tensor %q", file.Tensors[i].Name)
			}
		}
	})
}
