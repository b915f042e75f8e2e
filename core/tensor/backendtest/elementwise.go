package backendtest

import (
	"fmt"
	"math"

	"github.com/bingli/bingli/core/tensor"
)

// name formats a subtest name.
func name(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func testElementwise(s *suite) {
	for _, sh := range append(append([][]int(nil), shapes...), emptyShapes...) {
		s.run(fmt.Sprint(sh), func(s *suite) {
			b := s.b
			a, av := s.rand(sh...)
			c, cv := s.rand(sh...)
			dst := s.zeros(sh...)
			n := len(av)
			apply := func(f func(x, y float64) float64) []float64 {
				out := make([]float64, n)
				for i := range out {
					out[i] = f(av[i], cv[i])
				}
				return out
			}
			s.ok(b.Add(dst, a, c))
			s.nearTensor("Add", dst, apply(func(x, y float64) float64 { return x + y }), exact)
			s.ok(b.Sub(dst, a, c))
			s.nearTensor("Sub", dst, apply(func(x, y float64) float64 { return x - y }), exact)
			s.ok(b.Mul(dst, a, c))
			s.nearTensor("Mul", dst, apply(func(x, y float64) float64 { return x * y }), exact)
			s.ok(b.Scale(dst, a, -3))
			s.nearTensor("Scale", dst, apply(func(x, y float64) float64 { return -3 * x }), exact)

			g := s.grad(sh...)
			s.ok(b.AddScaled(g.t, a, 0.5))
			s.near("AddScaled", s.delta(g), apply(func(x, y float64) float64 { return 0.5 * x }), exact)
			g = s.grad(sh...)
			s.ok(b.MulAdd(g.t, a, c))
			s.near("MulAdd", s.delta(g), apply(func(x, y float64) float64 { return x * y }), exact)

			s.ok(b.Add(a, a, c))
			s.nearTensor("Add in place", a, apply(func(x, y float64) float64 { return x + y }), exact)

			rows, cols := matrix(sh)
			bias, bv := s.rand(cols)
			x, xv := s.rand(sh...)
			s.ok(b.AddBias(dst, x, bias))
			want := make([]float64, n)
			sums := make([]float64, cols)
			for r := range rows {
				for j := range cols {
					want[r*cols+j] = xv[r*cols+j] + bv[j]
					sums[j] += xv[r*cols+j]
				}
			}
			s.nearTensor("AddBias", dst, want, exact)
			gb := s.grad(cols)
			s.ok(b.AddBiasBackward(gb.t, x))
			s.near("AddBiasBackward", s.delta(gb), sums, sumTol(exact, rows))
		})
	}
}

func testCopyCols(s *suite) {
	for _, accumulate := range []bool{false, true} {
		s.run(name("accumulate=%v", accumulate), func(s *suite) {
			dst, dv := s.rand(2, 3, 7)
			src, sv := s.rand(6, 4)
			s.ok(s.b.CopyCols(dst, 2, src, 1, 3, accumulate))
			want := append([]float64(nil), dv...)
			for r := range 6 {
				for j := range 3 {
					if accumulate {
						want[r*7+2+j] += sv[r*4+1+j]
					} else {
						want[r*7+2+j] = sv[r*4+1+j]
					}
				}
			}
			s.nearTensor("dst", dst, want, exact)
		})
	}
}

// refActivate is the float64 reference of each activation.
func refActivate(f tensor.Activation, x float64) float64 {
	switch f {
	case tensor.ReLU:
		return math.Max(x, 0)
	case tensor.GELU:
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	case tensor.Tanh:
		return math.Tanh(x)
	case tensor.Sigmoid:
		return 1 / (1 + math.Exp(-x))
	}
	panic("unknown activation")
}

func testActivations(s *suite) {
	for _, f := range []tensor.Activation{tensor.ReLU, tensor.GELU, tensor.Tanh, tensor.Sigmoid} {
		for _, sh := range append(append([][]int(nil), shapes...), emptyShapes...) {
			s.run(name("%v/%v", f, sh), func(s *suite) {
				x, xv := s.rand(sh...)
				for i := range xv { // keep away from ReLU's kink
					if math.Abs(xv[i]) < 1e-3 {
						xv[i] = 0.5
					}
				}
				s.ok(s.b.Upload(x, f32s(xv)))
				y := s.zeros(sh...)
				s.ok(s.b.Activate(f, y, x))
				ref := func() []float64 {
					out := make([]float64, len(xv))
					for i, v := range xv {
						out[i] = refActivate(f, v)
					}
					return out
				}
				s.nearTensor("forward", y, ref(), transcendent)
				dy, w := s.rand(sh...)
				dx := s.grad(sh...)
				s.ok(s.b.ActivateBackward(f, dx.t, x, y, dy))
				s.gradCheck("dx", dx, xv, func() float64 { return dot(w, ref()) })

				yy := s.zeros(sh...)
				s.ok(s.b.Copy(yy, x))
				s.ok(s.b.Activate(f, yy, yy))
				s.nearTensor("in place", yy, ref(), transcendent)
			})
		}
	}
}

// refSoftmax applies a row softmax in float64.
func refSoftmax(x []float64, rows, cols int) []float64 {
	out := make([]float64, len(x))
	for r := range rows {
		row := x[r*cols : (r+1)*cols]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		var sum float64
		for j, v := range row {
			out[r*cols+j] = math.Exp(v - m)
			sum += out[r*cols+j]
		}
		for j := range row {
			out[r*cols+j] /= sum
		}
	}
	return out
}

func testSoftmax(s *suite) {
	for _, sh := range append(append([][]int(nil), shapes...), emptyShapes...) {
		s.run(fmt.Sprint(sh), func(s *suite) {
			rows, cols := matrix(sh)
			x, xv := s.rand(sh...)
			y := s.zeros(sh...)
			s.ok(s.b.Softmax(y, x))
			s.nearTensor("forward", y, refSoftmax(xv, rows, cols), transcendent)
			dy, w := s.rand(sh...)
			dx := s.grad(sh...)
			s.ok(s.b.SoftmaxBackward(dx.t, y, dy))
			s.gradCheck("dx", dx, xv, func() float64 { return dot(w, refSoftmax(xv, rows, cols)) })
		})
	}
}
