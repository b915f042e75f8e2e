package tensor

import "fmt"

// FusedLinear is an optional extension of Backend: the linear layer y = f(x·Wᵀ + b) as one
// op, which a GPU backend runs as one matrix product with a bias-and-activation epilogue
// instead of a product and two passes over y. Use Linear, which falls back to MatMul,
// AddBias and Activate on backends without it.
type FusedLinear interface {
	// Linear sets y = f(x·Wᵀ + b): x is [..., In] with N rows in matrix view, w is
	// [Out, In], bias is [Out] or nil, y is [..., Out] with N rows; f is an Activation,
	// or 0 for none. y must not alias x.
	Linear(y, x, w, bias *Tensor, f Activation) error
}

// Linear computes y = f(x·Wᵀ + b) on be, fused when be implements FusedLinear.
func Linear(be Backend, y, x, w, bias *Tensor, f Activation) error {
	if fl, ok := be.(FusedLinear); ok {
		return fl.Linear(y, x, w, bias, f)
	}
	if _, _, _, err := CheckLinear(y, x, w, bias, f); err != nil {
		return err
	}
	if err := be.MatMul(false, true, 1, x, w, 0, y); err != nil {
		return err
	}
	if bias != nil {
		if err := be.AddBias(y, y, bias); err != nil {
			return err
		}
	}
	if f != 0 {
		return be.Activate(f, y, y)
	}
	return nil
}

// CheckLinear checks a Linear call and returns N, In and Out.
func CheckLinear(y, x, w, bias *Tensor, f Activation) (n, in, out int, err error) {
	const op = "Linear"
	if y == nil || x == nil || w == nil {
		return 0, 0, 0, nilErr(op, "y, x or w")
	}
	if f != 0 {
		if err := CheckActivation(op, f); err != nil {
			return 0, 0, 0, err
		}
	}
	n, in = x.Matrix()
	yn, yo := y.Matrix()
	if w.Rank() != 2 || w.shape[1] != in || yn != n || yo != w.shape[0] {
		return 0, 0, 0, fmt.Errorf("%s: x %v, W %v, y %v: %w", op, x.shape, w.shape, y.shape, ErrShape)
	}
	out = w.shape[0]
	if bias != nil && (bias.Rank() != 1 || bias.shape[0] != out) {
		return 0, 0, 0, fmt.Errorf("%s: bias %v for %d outputs: %w", op, bias.shape, out, ErrShape)
	}
	if y.storage == x.storage {
		return 0, 0, 0, fmt.Errorf("%s: y aliases x: %w", op, ErrArgument)
	}
	return n, in, out, nil
}
