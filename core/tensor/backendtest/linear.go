package backendtest

import "github.com/bingli/bingli/core/tensor"

// testLinear checks tensor.Linear (fused where the backend implements tensor.FusedLinear)
// against y = f(x·Wᵀ + b) in float64, for every activation, with and without a bias.
func testLinear(s *suite) {
	if _, ok := s.b.(tensor.FusedLinear); !ok {
		s.t.Log("no fused linear op; tensor.Linear's fallback is checked")
	}
	acts := []tensor.Activation{0, tensor.ReLU, tensor.GELU, tensor.Tanh, tensor.Sigmoid}
	for _, tc := range []struct{ n, in, out int }{{1, 1, 1}, {5, 7, 3}, {37, 64, 48}, {130, 33, 257}} {
		for _, f := range acts {
			for _, withBias := range []bool{true, false} {
				s.run(name("N=%d,In=%d,Out=%d,f=%d,bias=%v", tc.n, tc.in, tc.out, int(f), withBias), func(s *suite) {
					x, xv := s.rand(tc.n, tc.in)
					w, wv := s.rand(tc.out, tc.in)
					var bias *tensor.Tensor
					bv := make([]float64, tc.out)
					if withBias {
						bias, bv = s.rand(tc.out)
					}
					y := s.zeros(tc.n, tc.out)
					s.ok(tensor.Linear(s.b, y, x, w, bias, f))
					want := make([]float64, tc.n*tc.out)
					for r := range tc.n {
						for o := range tc.out {
							v := bv[o]
							for i := range tc.in {
								v += xv[r*tc.in+i] * wv[o*tc.in+i]
							}
							if f != 0 {
								v = refActivate(f, v)
							}
							want[r*tc.out+o] = v
						}
					}
					s.nearTensor("y", y, want, sumTol(transcendent, tc.in))
				})
			}
		}
	}
	s.run("errors", func(s *suite) {
		x, y, w := s.zeros(2, 3), s.zeros(2, 4), s.zeros(4, 3)
		s.wantErr("wrong W", tensor.Linear(s.b, y, x, s.zeros(4, 2), nil, 0), tensor.ErrShape)
		s.wantErr("wrong bias", tensor.Linear(s.b, y, x, w, s.zeros(3), 0), tensor.ErrShape)
		s.wantErr("bad activation", tensor.Linear(s.b, y, x, w, nil, 9), tensor.ErrArgument)
		s.wantErr("nil x", tensor.Linear(s.b, y, nil, w, nil, 0), tensor.ErrArgument)
	})
}
