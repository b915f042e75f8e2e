package backendtest

import (
	"math"

	"github.com/bingli/bingli/core/tensor"
)

// foreign is storage no real backend owns.
type foreign struct{ n int }

func (f foreign) Len() int { return f.n }

// testErrors checks that invalid calls return the documented sentinel
// errors, do not panic, and leave destinations untouched.
func testErrors(s *suite) {
	b := s.b
	a23, _ := s.rand(2, 3)
	a32, _ := s.rand(3, 2)
	a24, _ := s.rand(2, 4)
	dst, dstv := s.rand(2, 3)
	v3, _ := s.rand(3)
	alien, err := tensor.Wrap(foreign{6}, 2, 3)
	s.ok(err)
	ignore := func(_ float32, err error) error { return err }
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"New negative dim", func() error { _, err := b.New(2, -1); return err }, tensor.ErrShape},
		{"FromSlice length", func() error { _, err := b.FromSlice(make([]float32, 5), 2, 3); return err }, tensor.ErrShape},
		{"Upload length", func() error { return b.Upload(dst, make([]float32, 5)) }, tensor.ErrShape},
		{"Download length", func() error { return b.Download(make([]float32, 7), dst) }, tensor.ErrShape},
		{"Copy shape", func() error { return b.Copy(dst, a32) }, tensor.ErrShape},
		{"Add shape", func() error { return b.Add(dst, a23, a32) }, tensor.ErrShape},
		{"Add nil", func() error { return b.Add(dst, nil, a23) }, tensor.ErrArgument},
		{"Add foreign", func() error { return b.Add(dst, alien, a23) }, tensor.ErrBackend},
		{"MatMul inner", func() error { return b.MatMul(false, false, 1, a23, a23, 0, dst) }, tensor.ErrShape},
		{"MatMul out", func() error { return b.MatMul(false, false, 1, a23, a32, 0, dst) }, tensor.ErrShape},
		{"MatMul nil", func() error { return b.MatMul(false, false, 1, nil, a32, 0, dst) }, tensor.ErrArgument},
		{"MatMul alias", func() error {
			sq, _ := s.rand(3, 3)
			return b.MatMul(false, false, 1, sq, s.zeros(3, 3), 0, s.mustReshape(sq, 3, 3))
		}, tensor.ErrArgument},
		{"BatchedMatMul rank", func() error { return b.BatchedMatMul(false, false, 1, a23, a32, 0, dst) }, tensor.ErrShape},
		{"AddBias width", func() error { return b.AddBias(dst, a23, s.zeros(2)) }, tensor.ErrShape},
		{"CopyCols range", func() error { return b.CopyCols(dst, 2, a24, 0, 2, false) }, tensor.ErrShape},
		{"Activate unknown", func() error { return b.Activate(tensor.Activation(99), dst, a23) }, tensor.ErrArgument},
		{"ActivateBackward missing y", func() error { return b.ActivateBackward(tensor.Tanh, dst, a23, nil, a23) }, tensor.ErrArgument},
		{"Softmax shape", func() error { return b.Softmax(dst, a32) }, tensor.ErrShape},
		{"LayerNorm gamma", func() error { return b.LayerNorm(dst, nil, nil, a23, s.zeros(2), v3, 1e-5) }, tensor.ErrShape},
		{"BatchNorm one row", func() error {
			x := s.zeros(1, 3)
			return b.BatchNorm(s.zeros(1, 3), v3, v3, v3, v3, x, v3, v3, true, 0.1, 1e-5)
		}, tensor.ErrShape},
		{"Dropout p=1", func() error { return b.Dropout(dst, a23, 1, 0, 0) }, tensor.ErrArgument},
		{"Dropout NaN p", func() error { return b.Dropout(dst, a23, float32(math.NaN()), 0, 0) }, tensor.ErrArgument},
		{"CrossEntropy target range", func() error {
			_, _, err := b.SoftmaxCrossEntropy(nil, a23, []int32{0, 3}, -1)
			return err
		}, tensor.ErrIndex},
		{"CrossEntropy target count", func() error {
			_, _, err := b.SoftmaxCrossEntropy(nil, a23, []int32{0}, -1)
			return err
		}, tensor.ErrShape},
		{"BCE shape", func() error { return ignore(b.BCEWithLogits(nil, a23, a32)) }, tensor.ErrShape},
		{"MSE grad shape", func() error { return ignore(b.MSE(a32, a23, dst)) }, tensor.ErrShape},
		{"Embedding id", func() error { return b.Embedding(dst, a23, []int32{0, 2}) }, tensor.ErrIndex},
		{"Embedding negative id", func() error { return b.Embedding(dst, a23, []int32{-1, 0}) }, tensor.ErrIndex},
		{"Embedding count", func() error { return b.Embedding(dst, a23, []int32{0}) }, tensor.ErrShape},
		{"SumCols length", func() error { return b.SumCols(v3, a23) }, tensor.ErrShape},
		{"Mean empty", func() error { return ignore(b.Mean(s.zeros(0))) }, tensor.ErrShape},
		{"AdamW step 0", func() error {
			return b.AdamW(dst, a23, a23, a23, tensor.AdamWConfig{LR: 1, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}, 0, 1)
		}, tensor.ErrArgument},
		{"GradNorm nil", func() error { return ignore(b.GradNorm(a23, nil)) }, tensor.ErrArgument},
	}
	for _, tc := range cases {
		s.run(tc.name, func(s *suite) {
			s.wantErr(tc.name, tc.call(), tc.want)
			s.nearTensor("untouched destination", dst, dstv, exact)
		})
	}
}

// mustReshape returns a view of x.
func (s *suite) mustReshape(x *tensor.Tensor, shape ...int) *tensor.Tensor {
	s.t.Helper()
	v, err := x.Reshape(shape...)
	s.ok(err)
	return v
}
