package nn

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// Forbidden is the score a CRF gives a transition or start tag that its constraints
// disallow. It replaces the learned score (it is not added to it), so the learned value of a
// forbidden entry is unused and its gradient is exactly zero. It is a large negative finite
// number rather than −Inf: exp(Forbidden) underflows to exactly 0 in float64, so forbidden
// paths carry no probability mass, yet sums and differences of scores never form
// −Inf − (−Inf) = NaN, and logZ stays finite even when every path is forbidden.
const Forbidden = -1e4

// Errors returned by the CRF, wrapped with details naming the offending value.
var (
	// ErrCRFInput reports slices of the wrong length, sequence lengths out of range and
	// tags out of range.
	ErrCRFInput = errors.New("crf: invalid input")
	// ErrCRFGoldForbidden reports a gold tag sequence that starts with a forbidden tag or
	// uses a forbidden transition, i.e. one the constrained CRF gives probability zero
	// (its NLL would be about −Forbidden). Repair the tags (e.g. O→I-X becomes O→B-X) or
	// train without constraints.
	ErrCRFGoldForbidden = errors.New("crf: gold path is forbidden by the constraints")
)

// Param is one named parameter tensor of a host-side layer: its values, its accumulated
// gradient (same length) and its row-major shape. Data and Grad alias the layer's own
// storage, so an optimizer updating Data updates the layer.
type Param struct {
	Name  string
	Shape []int
	Data  []float32
	Grad  []float32
}

// CRF is a linear-chain conditional random field over K tags.
//
// A sequence of n ≥ 1 positions with emission scores e_t(k) and tags y = y_0 … y_{n−1}
// scores
//
//	s(y) = Start[y_0] + Σ_{t<n} e_t(y_t) + Σ_{1≤t<n} Trans[y_{t−1}·K + y_t] + End[y_{n−1}]
//
// and p(y) = exp(s(y) − logZ), logZ = log Σ_y' exp(s(y')). Forbidden starts and transitions
// (see SetConstraints) score Forbidden instead of their learned value.
//
// Batches are one flat []float32 of emissions laid out [B, T, K] (row-major, sequence b at
// offset b·T·K), with lens[b] ∈ [1, T] the number of real positions of sequence b; positions
// t ≥ lens[b] are padding and never read, and the gradient there is never written. T is
// inferred as len(emissions)/(B·K). A length-0 sequence is an error: the model defines no
// distribution over empty sequences (there is no tag for Start and End to score), so
// callers drop empty sentences before calling. Gold tags are []int32 laid out [B, T]
// (padding ignored). Internally all recursions run in float64, every log-sum-exp shifted so
// that nothing overflows and recomputed exactly wherever a rescaled sum underflows.
//
// Concurrency: NLL, LogZ, Viterbi, Decode and Marginals only read the parameters and use
// pooled scratch space, so they are safe for concurrent use while nothing writes the
// parameters. NLLBackward accumulates into the CRF's own gradient slices and is not; to
// split a training batch over goroutines, give each goroutine its own Grads and call
// ForwardBackward on its sub-range of sequences with scale = 1/B_total, then sum the Grads.
type CRF struct {
	K     int
	Trans []float32 // [K, K]; Trans[i*K+j] scores tag i followed by tag j
	Start []float32 // [K]; score of the first tag
	End   []float32 // [K]; score of the last tag

	TransGrad, StartGrad, EndGrad []float32 // accumulated by NLLBackward; see ZeroGrad

	allowedTrans []bool // nil: all allowed
	allowedStart []bool // nil: all allowed
}

// Grads receives gradients from ForwardBackward. Each non-nil slice is accumulated into
// (+=), never overwritten; nil slices are skipped. Emissions has the layout of the
// emissions [B, T, K]; Trans is [K, K], Start and End are [K].
type Grads struct {
	Emissions         []float32
	Trans, Start, End []float32
}

// NewCRF returns a CRF over k ≥ 1 tags with all scores zero, no constraints, and zeroed
// gradient slices.
func NewCRF(k int) (*CRF, error) {
	if k < 1 {
		return nil, fmt.Errorf("%w: %d tags, want at least 1", ErrCRFInput, k)
	}
	return &CRF{
		K:         k,
		Trans:     make([]float32, k*k),
		Start:     make([]float32, k),
		End:       make([]float32, k),
		TransGrad: make([]float32, k*k),
		StartGrad: make([]float32, k),
		EndGrad:   make([]float32, k),
	}, nil
}

// SetConstraints restricts the paths the CRF considers, in training and decoding alike.
// allowedTrans ([K, K], [i*K+j] for tag i followed by tag j) and allowedStart ([K]) mark the
// allowed entries; a nil slice allows everything. The slices are copied. BIOConstraints
// builds them for BIO tag sets.
func (c *CRF) SetConstraints(allowedTrans, allowedStart []bool) error {
	if allowedTrans != nil && len(allowedTrans) != c.K*c.K {
		return fmt.Errorf("%w: allowedTrans has %d entries, want K·K = %d", ErrCRFInput, len(allowedTrans), c.K*c.K)
	}
	if allowedStart != nil && len(allowedStart) != c.K {
		return fmt.Errorf("%w: allowedStart has %d entries, want K = %d", ErrCRFInput, len(allowedStart), c.K)
	}
	c.allowedTrans = cloneBools(allowedTrans)
	c.allowedStart = cloneBools(allowedStart)
	return nil
}

func cloneBools(b []bool) []bool {
	if b == nil {
		return nil
	}
	return append([]bool(nil), b...)
}

// BIOConstraints returns the allowed transitions ([K, K]) and start tags ([K]) of a BIO
// tag set such as "O", "B-Disease", "I-Disease": I-X may only follow B-X or I-X, and no
// sequence starts with an I- tag. Any tag may end a sequence. Labels that are neither B- nor
// I- tags (O, or anything else) are unconstrained except that they cannot precede an I-
// tag.
func BIOConstraints(labels []string) (allowedTrans []bool, allowedStart []bool) {
	k := len(labels)
	allowedTrans = make([]bool, k*k)
	allowedStart = make([]bool, k)
	for j, to := range labels {
		inside, ok := strings.CutPrefix(to, "I-")
		allowedStart[j] = !ok
		for i, from := range labels {
			allowedTrans[i*k+j] = !ok || from == "B-"+inside || from == "I-"+inside
		}
	}
	return allowedTrans, allowedStart
}

// Params exposes the parameters for the optimizer and for serialisation, under the names
// pytorch-crf uses ("transitions" [K, K], "start_transitions" [K], "end_transitions" [K]).
func (c *CRF) Params() []Param {
	k := c.K
	return []Param{
		{Name: "transitions", Shape: []int{k, k}, Data: c.Trans, Grad: c.TransGrad},
		{Name: "start_transitions", Shape: []int{k}, Data: c.Start, Grad: c.StartGrad},
		{Name: "end_transitions", Shape: []int{k}, Data: c.End, Grad: c.EndGrad},
	}
}

// ZeroGrad sets the CRF's accumulated parameter gradients to zero.
func (c *CRF) ZeroGrad() {
	clear(c.TransGrad)
	clear(c.StartGrad)
	clear(c.EndGrad)
}

// NLL returns the mean negative log-likelihood of the gold tags over the batch,
//
//	(1/B) Σ_b [logZ_b − s_b(gold_b)],
//
// with logZ from the forward algorithm (see LogZ). This is pytorch-crf's reduction='mean'
// negated: the sum over sequences divided by B (not by the token count). The batch must
// hold at least one sequence.
func (c *CRF) NLL(emissions []float32, lens []int, gold []int32) (float64, error) {
	if len(lens) == 0 {
		return 0, fmt.Errorf("%w: empty batch has no mean NLL", ErrCRFInput)
	}
	return c.ForwardBackward(emissions, lens, gold, 1/float64(len(lens)), Grads{})
}

// NLLBackward returns NLL and accumulates its gradient: into dEmissions ([B, T, K], may
// be nil to skip; padding positions untouched) and into TransGrad, StartGrad and EndGrad.
// See ForwardBackward for the gradient identity.
func (c *CRF) NLLBackward(emissions []float32, lens []int, gold []int32, dEmissions []float32) (float64, error) {
	if len(lens) == 0 {
		return 0, fmt.Errorf("%w: empty batch has no mean NLL", ErrCRFInput)
	}
	g := Grads{Emissions: dEmissions, Trans: c.TransGrad, Start: c.StartGrad, End: c.EndGrad}
	return c.ForwardBackward(emissions, lens, gold, 1/float64(len(lens)), g)
}

// ForwardBackward returns scale·Σ_b NLL_b for the given sequences and accumulates
// scale·∂(Σ_b NLL_b)/∂θ into the non-nil slices of g. It reads the CRF's parameters and
// writes only g, so goroutines may run it concurrently on disjoint sub-batches with their
// own Grads (use scale = 1/B of the whole batch to get the mean).
//
// The gradients are exact, from forward–backward marginals: since
// ∂logZ/∂θ = E_p[∂s/∂θ] and s is linear in the scores,
//
//	∂NLL/∂e_t(k)           = p(y_t = k) − [gold_t = k]
//	∂NLL/∂Trans[i·K+j]     = Σ_{1≤t<n} p(y_{t−1} = i, y_t = j) − #{t: gold_{t−1} = i, gold_t = j}
//	∂NLL/∂Start[k]         = p(y_0 = k) − [gold_0 = k]
//	∂NLL/∂End[k]           = p(y_{n−1} = k) − [gold_{n−1} = k]
//
// with p(y_t = k) = exp(α_t(k) + β_t(k) − logZ) and
// p(y_{t−1} = i, y_t = j) = exp(α_{t−1}(i) + Trans[i·K+j] + e_t(j) + β_t(j) − logZ), where the
// backward recursion is β_{n−1}(i) = End[i], β_{t−1}(i) = log Σ_j exp(Trans[i·K+j] + e_t(j) +
// β_t(j)). Forbidden entries get no gradient.
func (c *CRF) ForwardBackward(emissions []float32, lens []int, gold []int32, scale float64, g Grads) (float64, error) {
	t, err := c.check(emissions, lens, gold, true)
	if err != nil {
		return 0, err
	}
	if err := c.checkGrads(g, len(emissions)); err != nil {
		return 0, err
	}
	w := getWork(c, t)
	defer crfPool.Put(w)
	k := c.K
	needPairs := g.Trans != nil
	backward := g.Emissions != nil || g.Start != nil || g.End != nil || needPairs
	if needPairs {
		clear(w.pair)
	}
	var total float64
	for b, n := range lens {
		e := emissions[b*t*k : (b*t+n)*k]
		y := gold[b*t : b*t+n]
		logZ := w.forward(e, n)
		total += logZ - w.score(e, y)
		if !backward {
			continue
		}
		w.backward(e, n, logZ, needPairs)
		if g.Emissions != nil {
			de := g.Emissions[b*t*k : (b*t+n)*k]
			a, bt := w.alpha[:len(de)], w.beta[:len(de)]
			for i := range de {
				de[i] += float32(scale * math.Exp(a[i]+bt[i]-logZ))
			}
			for s, tag := range y {
				de[s*k+int(tag)] -= float32(scale)
			}
		}
		if g.Start != nil {
			for j := range k {
				if c.startAllowed(j) {
					g.Start[j] += float32(scale * (math.Exp(w.alpha[j]+w.beta[j]-logZ) - indicator(y[0], j)))
				}
			}
		}
		if g.End != nil {
			last := (n - 1) * k
			for j := range k {
				g.End[j] += float32(scale * (math.Exp(w.alpha[last+j]+w.beta[last+j]-logZ) - indicator(y[n-1], j)))
			}
		}
		if needPairs {
			for s := 1; s < n; s++ {
				w.pair[int(y[s-1])*k+int(y[s])]--
			}
		}
	}
	if needPairs {
		for i, p := range w.pair {
			if c.transAllowed(i) {
				g.Trans[i] += float32(scale * p)
			}
		}
	}
	return scale * total, nil
}

func indicator(y int32, k int) float64 {
	if int(y) == k {
		return 1
	}
	return 0
}

// LogZ returns each sequence's log partition function, computed by the forward algorithm:
//
//	α_0(k) = Start[k] + e_0(k)
//	α_t(k) = e_t(k) + log Σ_i exp(α_{t−1}(i) + Trans[i·K+k])
//	logZ   = log Σ_k exp(α_{n−1}(k) + End[k])
//
// with every log-sum-exp shifted by (an upper bound of) its maximum term.
func (c *CRF) LogZ(emissions []float32, lens []int) ([]float64, error) {
	t, err := c.check(emissions, lens, nil, false)
	if err != nil {
		return nil, err
	}
	w := getWork(c, t)
	defer crfPool.Put(w)
	k := c.K
	out := make([]float64, len(lens))
	for b, n := range lens {
		out[b] = w.forward(emissions[b*t*k:(b*t+n)*k], n)
	}
	return out, nil
}

// Viterbi returns the highest-scoring tag path of each sequence (paths[b] has lens[b]
// tags) and its score s(path). Ties go to the lowest tag index. Forbidden transitions and
// start tags never appear unless every path is forbidden.
func (c *CRF) Viterbi(emissions []float32, lens []int) (paths [][]int32, scores []float64, err error) {
	t, err := c.check(emissions, lens, nil, false)
	if err != nil {
		return nil, nil, err
	}
	w := getWork(c, t)
	defer crfPool.Put(w)
	k := c.K
	total := 0
	for _, n := range lens {
		total += n
	}
	backing := make([]int32, total)
	paths = make([][]int32, len(lens))
	scores = make([]float64, len(lens))
	for b, n := range lens {
		paths[b], backing = backing[:n:n], backing[n:]
		scores[b] = w.viterbi(emissions[b*t*k:(b*t+n)*k], n, paths[b])
	}
	return paths, scores, nil
}

// Decode returns the Viterbi path of each sequence and its sequence confidence, the
// model's probability of the whole decoded path:
//
//	conf_b = p(ŷ_b) = exp(s(ŷ_b) − logZ_b) ∈ (0, 1].
//
// It is the probability that every tag of the sentence is right at once, so it falls with
// sentence length and with uncertainty anywhere in the sentence; for the confidence of one
// entity use SpanConfidence.
func (c *CRF) Decode(emissions []float32, lens []int) (paths [][]int32, conf []float64, err error) {
	paths, scores, err := c.Viterbi(emissions, lens)
	if err != nil {
		return nil, nil, err
	}
	logZ, err := c.LogZ(emissions, lens)
	if err != nil {
		return nil, nil, err
	}
	for b := range scores {
		scores[b] = math.Exp(scores[b] - logZ[b])
	}
	return paths, scores, nil
}

// Scores returns the CRF's transition, start and end scores with the constraints applied
// (forbidden entries replaced by Forbidden), as a device decoder (tensor.CRFDecoder) needs them.
func (c *CRF) Scores() (trans, start, end []float32) {
	trans = append([]float32(nil), c.Trans...)
	start = append([]float32(nil), c.Start...)
	end = append([]float32(nil), c.End...)
	for i := range trans {
		if !c.transAllowed(i) {
			trans[i] = Forbidden
		}
	}
	for i := range start {
		if !c.startAllowed(i) {
			start[i] = Forbidden
		}
	}
	return trans, start, end
}

// Marginals returns the posterior marginals p(y_t = k) = exp(α_t(k) + β_t(k) − logZ) laid
// out [B, T, K]; padding positions are zero.
func (c *CRF) Marginals(emissions []float32, lens []int) ([]float32, error) {
	t, err := c.check(emissions, lens, nil, false)
	if err != nil {
		return nil, err
	}
	w := getWork(c, t)
	defer crfPool.Put(w)
	k := c.K
	out := make([]float32, len(emissions))
	for b, n := range lens {
		e := emissions[b*t*k : (b*t+n)*k]
		if w.marginalsScaled(e, n, out[b*t*k:(b*t+n)*k]) {
			continue
		}
		logZ := w.forward(e, n)
		w.backward(e, n, logZ, false)
		m := out[b*t*k : (b*t+n)*k]
		for i := range m {
			m[i] = float32(math.Exp(w.alpha[i] + w.beta[i] - logZ))
		}
	}
	return out, nil
}

// SpanConfidence returns the confidence of a decoded entity covering positions [s, e) of
// one sequence: the minimum over t ∈ [s, e) of the marginal p(y_t = path[t]). marginals
// is that sequence's [T, K] block of Marginals' output (K = k) and path its decoded tags.
//
// The minimum, not the product, because the product of marginals is not a probability of
// anything (the marginals are dependent) and shrinks geometrically with span length, so a
// long procedure name would look less sure than a short one tagged with the same per-char
// certainty, and no single threshold would serve all lengths. The minimum stays on the
// scale of one tag's probability, is governed by the weakest character (usually a
// boundary), and bounds from above the exact probability that the whole span carries
// these tags: p(y_s…y_{e−1} = path[s:e]) ≤ min_t p(y_t = path[t]).
func SpanConfidence(marginals []float32, k int, path []int32, s, e int) (float64, error) {
	if k < 1 || s < 0 || e <= s || e > len(path) || len(marginals) < e*k {
		return 0, fmt.Errorf("%w: span [%d, %d) of a %d-tag path with %d marginals over %d tags",
			ErrCRFInput, s, e, len(path), len(marginals), k)
	}
	conf := 1.0
	for t := s; t < e; t++ {
		y := path[t]
		if y < 0 || int(y) >= k {
			return 0, fmt.Errorf("%w: path[%d] = %d, want a tag in [0, %d)", ErrCRFInput, t, y, k)
		}
		conf = min(conf, float64(marginals[t*k+int(y)]))
	}
	return conf, nil
}

func (c *CRF) startAllowed(j int) bool { return c.allowedStart == nil || c.allowedStart[j] }
func (c *CRF) transAllowed(i int) bool { return c.allowedTrans == nil || c.allowedTrans[i] }

// check validates the CRF's own slices and a batch, returning the padded length T.
func (c *CRF) check(emissions []float32, lens []int, gold []int32, needGold bool) (int, error) {
	k := c.K
	switch {
	case k < 1:
		return 0, fmt.Errorf("%w: CRF has %d tags", ErrCRFInput, k)
	case len(c.Trans) != k*k || len(c.Start) != k || len(c.End) != k:
		return 0, fmt.Errorf("%w: CRF parameters have %d/%d/%d entries, want %d/%d/%d",
			ErrCRFInput, len(c.Trans), len(c.Start), len(c.End), k*k, k, k)
	}
	bsz := len(lens)
	if bsz == 0 {
		if len(emissions) != 0 || len(gold) != 0 {
			return 0, fmt.Errorf("%w: no sequence lengths for %d emissions and %d gold tags", ErrCRFInput, len(emissions), len(gold))
		}
		return 0, nil
	}
	if len(emissions) == 0 || len(emissions)%(bsz*k) != 0 {
		return 0, fmt.Errorf("%w: %d emissions is not B·T·K for B = %d, K = %d", ErrCRFInput, len(emissions), bsz, k)
	}
	t := len(emissions) / (bsz * k)
	for b, n := range lens {
		if n < 1 || n > t {
			return 0, fmt.Errorf("%w: lens[%d] = %d, want 1..T = %d", ErrCRFInput, b, n, t)
		}
	}
	if !needGold {
		return t, nil
	}
	if len(gold) != bsz*t {
		return 0, fmt.Errorf("%w: %d gold tags, want B·T = %d", ErrCRFInput, len(gold), bsz*t)
	}
	return t, c.checkGoldPaths(lens, gold, t)
}

// CheckGold validates lengths (each in [1, t]) and gold paths (batch-major, t positions per
// sequence) as NLL does, for callers that compute the NLL elsewhere (tensor.CRFTrainer).
func (c *CRF) CheckGold(lens []int, gold []int32, t int) error {
	for b, n := range lens {
		if n < 1 || n > t {
			return fmt.Errorf("%w: lens[%d] = %d, want 1..T = %d", ErrCRFInput, b, n, t)
		}
	}
	if len(gold) != len(lens)*t {
		return fmt.Errorf("%w: %d gold tags, want B·T = %d", ErrCRFInput, len(gold), len(lens)*t)
	}
	return c.checkGoldPaths(lens, gold, t)
}

// checkGoldPaths checks that every gold tag is in range and every path allowed.
func (c *CRF) checkGoldPaths(lens []int, gold []int32, t int) error {
	k := c.K
	for b, n := range lens {
		y := gold[b*t : b*t+n]
		for s, tag := range y {
			if tag < 0 || int(tag) >= k {
				return fmt.Errorf("%w: gold[%d][%d] = %d, want a tag in [0, %d)", ErrCRFInput, b, s, tag, k)
			}
		}
		if !c.startAllowed(int(y[0])) {
			return fmt.Errorf("%w: sequence %d starts with tag %d", ErrCRFGoldForbidden, b, y[0])
		}
		for s := 1; s < n; s++ {
			if !c.transAllowed(int(y[s-1])*k + int(y[s])) {
				return fmt.Errorf("%w: sequence %d, position %d: tag %d after tag %d", ErrCRFGoldForbidden, b, s, y[s], y[s-1])
			}
		}
	}
	return nil
}

func (c *CRF) checkGrads(g Grads, nEmissions int) error {
	k := c.K
	for _, s := range []struct {
		name string
		got  []float32
		want int
	}{
		{"emissions", g.Emissions, nEmissions},
		{"transitions", g.Trans, k * k},
		{"start", g.Start, k},
		{"end", g.End, k},
	} {
		if s.got != nil && len(s.got) != s.want {
			return fmt.Errorf("%w: %s gradient has %d entries, want %d", ErrCRFInput, s.name, len(s.got), s.want)
		}
	}
	return nil
}

// crfWork is the scratch space of one call: the effective (constrained) scores in
// float64 and the per-position tables, grown as needed and reused through crfPool.
type crfWork struct {
	k           int
	tr, trT     []float64 // effective transitions [i*K+j] and transposed [j*K+i]
	expR, expT  []float64 // exp(tr − row max) [i*K+j] and exp(tr − column max) [j*K+i]
	rowMax      []float64 // [K] row maxima of tr
	colMax      []float64 // [K] column maxima of tr
	u           []float64 // [K] rescaled exponentials
	st, en      []float64 // effective start and end scores
	alpha, beta []float64 // [T, K] forward and backward log scores (alpha doubles as Viterbi δ)
	x           []float64 // [K] log-domain temporaries
	wj          []float64 // [K] e_t(j) + β_t(j)
	pair        []float64 // [K, K] pair marginals summed over positions and sequences
	bp          []int32   // [T, K] Viterbi back-pointers
	ex          []float64 // [T, K] exp(e_t − max e_t) (marginalsScaled)
	rf          []float64 // [K] exp(row max of tr − largest row max) (marginalsScaled)
}

var crfPool = sync.Pool{New: func() any { return new(crfWork) }}

func grow[E any](s []E, n int) []E {
	if cap(s) < n {
		return make([]E, n)
	}
	return s[:n]
}

// getWork takes a workspace from the pool and loads c's effective scores into it.
func getWork(c *CRF, t int) *crfWork {
	w := crfPool.Get().(*crfWork)
	k := c.K
	w.k = k
	w.tr = grow(w.tr, k*k)
	w.trT = grow(w.trT, k*k)
	w.st = grow(w.st, k)
	w.en = grow(w.en, k)
	w.alpha = grow(w.alpha, t*k)
	w.beta = grow(w.beta, t*k)
	w.x = grow(w.x, k)
	w.wj = grow(w.wj, k)
	w.pair = grow(w.pair, k*k)
	w.bp = grow(w.bp, t*k)
	w.expR = grow(w.expR, k*k)
	w.expT = grow(w.expT, k*k)
	w.rowMax = grow(w.rowMax, k)
	w.colMax = grow(w.colMax, k)
	w.u = grow(w.u, k)
	for i := range k {
		for j := range k {
			v := float64(c.Trans[i*k+j])
			if !c.transAllowed(i*k + j) {
				v = Forbidden
			}
			w.tr[i*k+j] = v
			w.trT[j*k+i] = v
		}
		w.st[i] = float64(c.Start[i])
		if !c.startAllowed(i) {
			w.st[i] = Forbidden
		}
		w.en[i] = float64(c.End[i])
	}
	for i := range k {
		w.rowMax[i] = slices.Max(w.tr[i*k : (i+1)*k])
		w.colMax[i] = slices.Max(w.trT[i*k : (i+1)*k])
	}
	for i := range k {
		for j := range k {
			w.expR[i*k+j] = math.Exp(w.tr[i*k+j] - w.rowMax[i])
			w.expT[j*k+i] = math.Exp(w.tr[i*k+j] - w.colMax[j])
		}
	}
	return w
}

// logSumExp returns log Σ exp(v) (v non-empty), shifted by the maximum.
func logSumExp(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = max(m, x)
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// minScaled is the smallest rescaled sum forward and backward trust. Below it (every
// allowed term underflowed, e.g. when huge emissions meet constraints) the entry is
// recomputed by a plain max-shifted log-sum-exp, so results stay exact in every case.
const minScaled = 1e-280

// forward fills alpha[:n*K] for one sequence's emissions e ([n, K]) and returns logZ.
// Each log-sum-exp is factored as
//
//	log Σ_i exp(α_{t−1}(i) + Trans[i·K+j]) = A + c_j + log Σ_i exp(α_{t−1}(i) − A)·exp(Trans[i·K+j] − c_j)
//
// with A = max_i α_{t−1}(i) and c_j the column maximum of Trans, so a position costs K exps
// and K logs plus K² multiply-adds instead of K² exps.
func (w *crfWork) forward(e []float32, n int) float64 {
	k := w.k
	a := w.alpha
	u, x := w.u, w.x[:k]
	for j := range k {
		a[j] = w.st[j] + float64(e[j])
	}
	for t := 1; t < n; t++ {
		prev := a[(t-1)*k : t*k]
		top := prev[0]
		for _, p := range prev[1:] {
			top = max(top, p)
		}
		for i, p := range prev {
			u[i] = math.Exp(p - top)
		}
		for j := range k {
			col := w.expT[j*k : (j+1)*k]
			col = col[:len(u)]
			var s float64
			for i, v := range u {
				s += v * col[i]
			}
			if s >= minScaled {
				a[t*k+j] = top + w.colMax[j] + math.Log(s) + float64(e[t*k+j])
				continue
			}
			tr := w.trT[j*k : (j+1)*k]
			for i, p := range prev {
				x[i] = p + tr[i]
			}
			a[t*k+j] = logSumExp(x) + float64(e[t*k+j])
		}
	}
	for j := range k {
		x[j] = a[(n-1)*k+j] + w.en[j]
	}
	return logSumExp(x)
}

// backward fills beta[:n*K] for one sequence, given alpha and logZ from forward, factoring
// each log-sum-exp as forward does (by W = max_j w_j, w_j = e_t(j) + β_t(j), and the row
// maximum r_i of Trans). With pairs it adds the pair marginals p(y_{t−1} = i, y_t = j),
// summed over t, to w.pair, as
//
//	exp(α_{t−1}(i) + Trans[i·K+j] + w_j − logZ) = exp(Trans[i·K+j] − r_i)·exp(w_j − W) · exp(α_{t−1}(i) + β_{t−1}(i) − logZ) / s_i
//
// where s_i ≥ minScaled is the rescaled sum behind β_{t−1}(i); no factor overflows.
func (w *crfWork) backward(e []float32, n int, logZ float64, pairs bool) {
	k := w.k
	bt := w.beta
	u, wj := w.u, w.wj
	copy(bt[(n-1)*k:n*k], w.en)
	for t := n - 1; t >= 1; t-- {
		top := math.Inf(-1)
		for j := range k {
			wj[j] = float64(e[t*k+j]) + bt[t*k+j]
			top = max(top, wj[j])
		}
		for j, v := range wj {
			u[j] = math.Exp(v - top)
		}
		for i := range k {
			row := w.expR[i*k : (i+1)*k]
			row = row[:len(u)]
			var s float64
			for j, v := range u {
				s += v * row[j]
			}
			if s >= minScaled {
				b := top + w.rowMax[i] + math.Log(s)
				bt[(t-1)*k+i] = b
				if pairs {
					f := math.Exp(w.alpha[(t-1)*k+i]+b-logZ) / s
					acc := w.pair[i*k : (i+1)*k]
					for j, v := range u {
						acc[j] += v * row[j] * f
					}
				}
				continue
			}
			w.backwardExact(t, i, logZ, pairs)
		}
	}
}

// backwardExact computes β_{t−1}(i), and with pairs its pair marginals, by a plain
// max-shifted log-sum-exp over x_j = Trans[i·K+j] + w_j, using
// p(y_{t−1} = i, y_t = j) = exp(x_j − m)·exp(α_{t−1}(i) + m − logZ) with m = max_j x_j ≤ β_{t−1}(i).
func (w *crfWork) backwardExact(t, i int, logZ float64, pairs bool) {
	k := w.k
	row := w.tr[i*k : (i+1)*k]
	x := w.x[:k]
	m := math.Inf(-1)
	for j, v := range row {
		x[j] = v + w.wj[j]
		m = max(m, x[j])
	}
	var s float64
	for j := range x {
		x[j] = math.Exp(x[j] - m)
		s += x[j]
	}
	w.beta[(t-1)*k+i] = m + math.Log(s)
	if pairs {
		f := math.Exp(w.alpha[(t-1)*k+i] + m - logZ)
		acc := w.pair[i*k : (i+1)*k]
		for j, v := range x {
			acc[j] += v * f
		}
	}
}

// marginalsScaled computes one sequence's posterior marginals in probability space with
// per-position normalisation, the fast path of Marginals: with E_t(j) = exp(e_t(j) − max_j e_t)
// and the row-shifted exp(Trans) of getWork,
//
//	α̂_t ∝ E_t ⊙ (α̂_{t−1}·exp(Trans)),  β̂_{t−1} ∝ exp(Trans)·(E_t ⊙ β̂_t),  p_t(j) = α̂_t(j)β̂_t(j) / Σ_k α̂_t(k)β̂_t(k),
//
// exact because every per-position scale cancels in p_t. It needs n·K exps instead of the
// log-space recursions' 4·n·K exps and logs. It reports false, leaving out to the caller, when
// a normaliser underflows (emissions hundreds of nats apart meeting the constraints), and
// Marginals then takes the log-space path.
func (w *crfWork) marginalsScaled(e []float32, n int, out []float32) bool {
	k := w.k
	w.ex = grow(w.ex, n*k)
	w.rf = grow(w.rf, k)
	ex, a, bt, u, v := w.ex, w.alpha[:n*k], w.beta[:n*k], w.u[:k], w.wj[:k]
	top := slices.Max(w.rowMax)
	for i, r := range w.rowMax {
		w.rf[i] = math.Exp(r - top)
	}
	for t := range n {
		row := e[t*k : (t+1)*k]
		m := row[0]
		for _, x := range row[1:] {
			m = max(m, x)
		}
		for j, x := range row {
			ex[t*k+j] = math.Exp(float64(x - m))
		}
	}
	normalize := func(x []float64) bool {
		var sum float64
		for _, y := range x {
			sum += y
		}
		if !(sum > 0) || math.IsInf(sum, 0) {
			return false
		}
		inv := 1 / sum
		for i := range x {
			x[i] *= inv
		}
		return true
	}
	sm := slices.Max(w.st)
	for j := range k {
		a[j] = math.Exp(w.st[j]-sm) * ex[j]
	}
	if !normalize(a[:k]) {
		return false
	}
	for t := 1; t < n; t++ {
		for i, p := range a[(t-1)*k : t*k] {
			u[i] = p * w.rf[i]
		}
		cur := a[t*k : (t+1)*k]
		for j := range k {
			var s float64
			for i, ui := range u {
				s += ui * w.expR[i*k+j]
			}
			cur[j] = s * ex[t*k+j]
		}
		if !normalize(cur) {
			return false
		}
	}
	em := slices.Max(w.en)
	last := bt[(n-1)*k : n*k]
	for j := range k {
		last[j] = math.Exp(w.en[j] - em)
	}
	if !normalize(last) {
		return false
	}
	for t := n - 1; t >= 1; t-- {
		for j := range k {
			v[j] = ex[t*k+j] * bt[t*k+j]
		}
		prev := bt[(t-1)*k : t*k]
		for i := range k {
			row := w.expR[i*k : (i+1)*k]
			var s float64
			for j, vj := range v {
				s += row[j] * vj
			}
			prev[i] = s * w.rf[i]
		}
		if !normalize(prev) {
			return false
		}
	}
	for t := range n {
		var z float64
		for j := range k {
			z += a[t*k+j] * bt[t*k+j]
		}
		if !(z > 0) || math.IsInf(z, 0) {
			return false
		}
		inv := 1 / z
		for j := range k {
			out[t*k+j] = float32(a[t*k+j] * bt[t*k+j] * inv)
		}
	}
	return true
}

// score returns s(y) for one sequence's emissions e ([n, K]) and tags y ([n]).
func (w *crfWork) score(e []float32, y []int32) float64 {
	k := w.k
	s := w.st[y[0]] + w.en[y[len(y)-1]]
	for t, tag := range y {
		s += float64(e[t*k+int(tag)])
		if t > 0 {
			s += w.tr[int(y[t-1])*k+int(tag)]
		}
	}
	return s
}

// viterbi writes the best path of one sequence into path ([n]) and returns its score:
// δ_0(k) = Start[k] + e_0(k), δ_t(k) = e_t(k) + max_i(δ_{t−1}(i) + Trans[i·K+k]), best
// score max_k(δ_{n−1}(k) + End[k]), then back-pointers from the end.
func (w *crfWork) viterbi(e []float32, n int, path []int32) float64 {
	k := w.k
	d := w.alpha
	for j := range k {
		d[j] = w.st[j] + float64(e[j])
	}
	for t := 1; t < n; t++ {
		prev := d[(t-1)*k : t*k]
		for j := range k {
			col := w.trT[j*k : (j+1)*k]
			col = col[:len(prev)]
			best, arg := prev[0]+col[0], 0
			for i := 1; i < k; i++ {
				if v := prev[i] + col[i]; v > best {
					best, arg = v, i
				}
			}
			d[t*k+j] = best + float64(e[t*k+j])
			w.bp[t*k+j] = int32(arg)
		}
	}
	best, arg := d[(n-1)*k]+w.en[0], 0
	for j := 1; j < k; j++ {
		if v := d[(n-1)*k+j] + w.en[j]; v > best {
			best, arg = v, j
		}
	}
	path[n-1] = int32(arg)
	for t := n - 1; t >= 1; t-- {
		path[t-1] = w.bp[t*k+int(path[t])]
	}
	return best
}
