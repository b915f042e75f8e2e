package tensor

import (
	"errors"
	"testing"
)

type fakeStorage int

func (f fakeStorage) Len() int { return int(f) }

func TestTensor(t *testing.T) {
	tests := []struct {
		name       string
		shape      []int
		rows, cols int
	}{
		{"scalar", nil, 1, 1},
		{"vector", []int{5}, 1, 5},
		{"matrix", []int{3, 4}, 3, 4},
		{"sequence batch", []int{2, 3, 4}, 6, 4},
		{"empty", []int{3, 0}, 3, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := SizeOf(tc.shape)
			if err != nil {
				t.Fatal(err)
			}
			x, err := Wrap(fakeStorage(n), tc.shape...)
			if err != nil {
				t.Fatal(err)
			}
			if r, c := x.Matrix(); r != tc.rows || c != tc.cols {
				t.Errorf("Matrix() = %d, %d, want %d, %d", r, c, tc.rows, tc.cols)
			}
			v, err := x.Reshape(n)
			if err != nil || v.Storage() != x.Storage() || v.Size() != n {
				t.Errorf("Reshape(%d) = %v, %v; want a view of the same storage", n, v, err)
			}
		})
	}
	x, _ := Wrap(fakeStorage(6), 2, 3)
	if x.Dim(-1) != 3 || x.Dim(0) != 2 || !x.HasShape(2, 3) || x.String() != "Tensor[2 3]" {
		t.Errorf("accessors of %v wrong", x)
	}
	if _, err := Wrap(fakeStorage(5), 2, 3); !errors.Is(err, ErrShape) {
		t.Errorf("Wrap with short storage: %v", err)
	}
	if _, err := x.Reshape(4, 2); !errors.Is(err, ErrShape) {
		t.Errorf("Reshape to another size: %v", err)
	}
	if _, err := SizeOf([]int{2, -1}); !errors.Is(err, ErrShape) {
		t.Errorf("negative dimension: %v", err)
	}
}
