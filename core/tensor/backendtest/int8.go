package backendtest

import "github.com/bingli/bingli/core/tensor"

func testInt8(s *suite) {
	for _, tc := range []struct {
		n, in, out int
		shape      []int
	}{
		{1, 1, 1, []int{1, 1}},
		{3, 7, 5, []int{3, 7}},
		{6, 33, 130, []int{2, 3, 33}},
		{2, 0, 3, []int{2, 0}},
		{2, 3, 0, []int{2, 3}},
	} {
		s.run(name("N=%d,In=%d,Out=%d", tc.n, tc.in, tc.out), func(s *suite) {
			q := make([]int8, tc.out*tc.in)
			for i := range q {
				q[i] = int8(s.r.IntN(255) - 127)
			}
			scale := s.uniform(tc.out, 0.001, 0.02)
			w, err := s.b.UploadInt8(q, f32s(scale), tc.out, tc.in)
			s.ok(err)
			x, xv := s.rand(tc.shape...)
			yShape := append(append([]int(nil), tc.shape[:len(tc.shape)-1]...), tc.out)
			y := s.zeros(yShape...)
			s.ok(s.b.MatMulInt8T(y, x, w))
			want := make([]float64, tc.n*tc.out)
			for r := range tc.n {
				for o := range tc.out {
					var sum float64
					for i := range tc.in {
						sum += xv[r*tc.in+i] * float64(q[o*tc.in+i]) * scale[o]
					}
					want[r*tc.out+o] = sum
				}
			}
			s.nearTensor("y", y, want, sumTol(exact, tc.in))
			s.wantErr("wrong input width", s.b.MatMulInt8T(y, s.zeros(tc.n, tc.in+1), w), tensor.ErrShape)
		})
	}
	s.run("UploadInt8 sizes", func(s *suite) {
		_, err := s.b.UploadInt8(make([]int8, 5), make([]float32, 2), 2, 3)
		s.wantErr("UploadInt8", err, tensor.ErrShape)
	})
}
