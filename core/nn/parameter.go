package nn

import (
	"fmt"

	"github.com/bingli/bingli/core/tensor"
)

// Parameter is one named, trainable backend tensor and its gradient. Value
// and Grad have the same shape; Grad accumulates (+=) over backward passes
// until ZeroGrad. Name is the dotted path used by optimizers and by
// checkpoints (see the package documentation for the naming scheme).
type Parameter struct {
	Name  string
	Value *tensor.Tensor
	Grad  *tensor.Tensor
}

// NewParameter returns a parameter with zeroed value and gradient.
func NewParameter(be tensor.Backend, name string, shape ...int) (*Parameter, error) {
	v, err := be.New(shape...)
	if err != nil {
		return nil, fmt.Errorf("nn: parameter %q: %w", name, err)
	}
	g, err := be.New(shape...)
	if err != nil {
		be.Free(v)
		return nil, fmt.Errorf("nn: parameter %q gradient: %w", name, err)
	}
	return &Parameter{Name: name, Value: v, Grad: g}, nil
}

// Module is anything that owns parameters: every layer, and models built
// from layers.
type Module interface {
	Parameters() []*Parameter
}

// Collect concatenates the parameters of the modules, in order, and
// rejects duplicate names (two layers built with the same prefix), which
// would make checkpoints ambiguous.
func Collect(mods ...Module) ([]*Parameter, error) {
	var all []*Parameter
	seen := make(map[string]bool)
	for _, m := range mods {
		for _, p := range m.Parameters() {
			if seen[p.Name] {
				return nil, fmt.Errorf("nn: duplicate parameter name %q: %w", p.Name, tensor.ErrArgument)
			}
			seen[p.Name] = true
			all = append(all, p)
		}
	}
	return all, nil
}

// ZeroGrad sets the gradients of params to zero.
func ZeroGrad(be tensor.Backend, params []*Parameter) error {
	for _, p := range params {
		if err := be.Fill(p.Grad, 0); err != nil {
			return fmt.Errorf("nn: zero gradient of %q: %w", p.Name, err)
		}
	}
	return nil
}

// join returns prefix.name, or name alone for an empty prefix.
func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// HostMirror exposes host-side parameters (the CRF's Params) as backend
// Parameters, so one optimizer, one gradient-norm clip and one checkpoint
// writer handle a whole model. The host slices stay authoritative for the
// host layer; the mirror copies between the two sides:
//
//	crf.ZeroGrad(); ...; crf.NLLBackward(...)  // host gradients
//	mirror.PushGrads()                          // host Grad → Parameter.Grad
//	opt.Step()                                  // updates Parameter.Value
//	mirror.PullValues()                         // Parameter.Value → host Data
//
// After loading a checkpoint into the mirrored Values, call PullValues;
// after changing the host Data directly, call PushValues.
type HostMirror struct {
	be     tensor.Backend
	host   []Param
	params []*Parameter
}

// NewHostMirror uploads host (values; gradients zero) under the names
// prefix.<Param.Name>.
func NewHostMirror(be tensor.Backend, prefix string, host []Param) (*HostMirror, error) {
	m := &HostMirror{be: be, host: host}
	for _, h := range host {
		n, err := tensor.SizeOf(h.Shape)
		if err != nil || n != len(h.Data) || n != len(h.Grad) {
			return nil, fmt.Errorf("nn: host parameter %q: shape %v, %d values, %d gradients: %w",
				h.Name, h.Shape, len(h.Data), len(h.Grad), tensor.ErrShape)
		}
		p, err := NewParameter(be, join(prefix, h.Name), h.Shape...)
		if err != nil {
			return nil, err
		}
		m.params = append(m.params, p)
	}
	if err := m.PushValues(); err != nil {
		return nil, err
	}
	return m, nil
}

// Parameters implements Module.
func (m *HostMirror) Parameters() []*Parameter { return m.params }

// PushGrads overwrites the backend gradients with the host gradients.
func (m *HostMirror) PushGrads() error {
	for i, h := range m.host {
		if err := m.be.Upload(m.params[i].Grad, h.Grad); err != nil {
			return fmt.Errorf("nn: push gradient %q: %w", m.params[i].Name, err)
		}
	}
	return nil
}

// PushValues overwrites the backend values with the host values.
func (m *HostMirror) PushValues() error {
	for i, h := range m.host {
		if err := m.be.Upload(m.params[i].Value, h.Data); err != nil {
			return fmt.Errorf("nn: push value %q: %w", m.params[i].Name, err)
		}
	}
	return nil
}

// PullValues overwrites the host values with the backend values.
func (m *HostMirror) PullValues() error {
	for i, h := range m.host {
		if err := m.be.Download(h.Data, m.params[i].Value); err != nil {
			return fmt.Errorf("nn: pull value %q: %w", m.params[i].Name, err)
		}
	}
	return nil
}
