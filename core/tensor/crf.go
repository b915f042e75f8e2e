package tensor

import "fmt"

// CRFDecoder is an optional extension of Backend for devices that decode a linear-chain
// CRF themselves, so that the emissions of a batch never travel to the host (the CUDA
// backend implements it). Callers check for it with a type assertion and otherwise decode
// on the host (package core/nn).
type CRFDecoder interface {
	// CRFDecode returns the Viterbi path of every sequence (ties to the lowest tag) and the
	// posterior marginals [B, T, K] (batch-major, zero at padded positions) for emissions
	// [T, B, K] (time-major) with lengths[b] ∈ [1, T]. trans [K·K] (from·K + to), start and
	// end [K] are the CRF's scores with forbidden entries already replaced by a large
	// negative score. A backend that cannot decode these sizes returns an error wrapping
	// ErrUnsupported, and the caller decodes on the host.
	CRFDecode(emissions *Tensor, lengths []int32, trans, start, end []float32) (paths [][]int32, marginals []float32, err error)
}

// ErrUnsupported reports an optional operation a backend does not provide for the given
// sizes.
var ErrUnsupported = fmt.Errorf("tensor: unsupported by this backend")

// CheckCRFDecode checks a CRFDecode call and returns T, B and K.
func CheckCRFDecode(emissions *Tensor, lengths []int32, trans, start, end []float32) (t, b, k int, err error) {
	const op = "CRFDecode"
	if emissions == nil {
		return 0, 0, 0, nilErr(op, "emissions")
	}
	if emissions.Rank() != 3 {
		return 0, 0, 0, fmt.Errorf("%s: emissions %v must be [T, B, K]: %w", op, emissions.shape, ErrShape)
	}
	t, b, k = emissions.shape[0], emissions.shape[1], emissions.shape[2]
	if len(trans) != k*k || len(start) != k || len(end) != k {
		return 0, 0, 0, fmt.Errorf("%s: scores %d, %d, %d for %d tags: %w", op, len(trans), len(start), len(end), k, ErrShape)
	}
	if len(lengths) != b {
		return 0, 0, 0, fmt.Errorf("%s: %d lengths for a batch of %d: %w", op, len(lengths), b, ErrShape)
	}
	for i, l := range lengths {
		if l < 1 || int(l) > t {
			return 0, 0, 0, fmt.Errorf("%s: length %d of sequence %d outside [1, %d]: %w", op, l, i, t, ErrIndex)
		}
	}
	return t, b, k, nil
}

// CRFTrainer is an optional extension of Backend: the CRF negative log-likelihood of gold
// paths and its gradient computed on the device, so that training moves neither the
// emissions nor their gradient through the host.
type CRFTrainer interface {
	// CRFNLL returns scale·Σ_b NLL_b for emissions [T, B, K] (time-major) and gold tags
	// [B·T] (batch-major; positions past lengths[b] ignored), accumulates scale·∂/∂e into
	// dEmissions [T, B, K] and scale·∂/∂(trans, start, end) into the host slices dTrans,
	// dStart and dEnd. Scores are as for CRFDecode; the gold paths must be valid (in range
	// and allowed), which the caller checks. Errors wrap ErrUnsupported for sizes the
	// backend does not handle.
	CRFNLL(dEmissions, emissions *Tensor, lengths []int32, gold []int32, trans, start, end []float32, scale float64, dTrans, dStart, dEnd []float32) (float64, error)
}
