package gradcheck_test

import (
	"errors"
	"testing"

	"github.com/bingli/bingli/core/nn"
	"github.com/bingli/bingli/core/nn/gradcheck"
	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/core/tensor/cpu"
)

// TestCheck runs the checker on a linear layer with its true backward and
// with backward passes that are slightly wrong, which it must reject.
func TestCheck(t *testing.T) {
	cases := []struct {
		name  string
		scale float32 // applied to dy before the backward pass
		ok    bool
	}{
		{"exact", 1, true},
		{"one percent off", 1.01, false},
		{"sign flipped", -1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			be := cpu.New(1)
			r := nn.NewRNG(1)
			l, err := nn.NewLinear(be, "fc", 3, 2, true, r)
			if err != nil {
				t.Fatal(err)
			}
			x, err := nn.NewParameter(be, "x", 4, 3)
			if err != nil {
				t.Fatal(err)
			}
			if err := nn.InitNormal(be, x.Value, 0, 1, r); err != nil {
				t.Fatal(err)
			}
			probe, err := gradcheck.NewProbe(be, 1, 4, 2)
			if err != nil {
				t.Fatal(err)
			}
			scaled, err := be.New(4, 2)
			if err != nil {
				t.Fatal(err)
			}
			f := func(backward bool) (float64, error) {
				y, ctx, err := l.Forward(x.Value)
				if err != nil {
					return 0, err
				}
				loss, err := probe.Loss(be, y)
				if err != nil || !backward {
					return loss, err
				}
				if err := be.Scale(scaled, probe.Grad(), c.scale); err != nil {
					return 0, err
				}
				return loss, l.Backward(ctx, scaled, x.Grad)
			}
			targets := append(l.Parameters(), x)
			before, err := be.ToSlice(x.Value)
			if err != nil {
				t.Fatal(err)
			}
			results, err := gradcheck.Check(be, f, targets, gradcheck.Options{})
			if c.ok && err != nil {
				t.Fatal(err)
			}
			if !c.ok && !errors.Is(err, gradcheck.ErrMismatch) {
				t.Fatalf("error %v, want ErrMismatch", err)
			}
			if len(results) != len(targets) {
				t.Fatalf("%d results for %d tensors", len(results), len(targets))
			}
			after, err := be.ToSlice(x.Value)
			if err != nil {
				t.Fatal(err)
			}
			for i := range before {
				if after[i] != before[i] {
					t.Fatalf("input element %d not restored: %v, want %v", i, after[i], before[i])
				}
			}
		})
	}
}

func TestProbeShape(t *testing.T) {
	be := cpu.New(1)
	p, err := gradcheck.NewProbe(be, 1, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	y, err := be.New(5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Loss(be, y); !errors.Is(err, tensor.ErrShape) {
		t.Errorf("probe of 6 on 5 elements: %v, want ErrShape", err)
	}
}
