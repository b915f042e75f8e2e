package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// bioLabels is a K = 3 BIO tag set, small enough to enumerate every path.
var bioLabels = []string{"O", "B-X", "I-X"}

func randCRF(t testing.TB, k int, rng *rand.Rand, constrained bool) *CRF {
	t.Helper()
	c, err := NewCRF(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]float32{c.Trans, c.Start, c.End} {
		for i := range p {
			p[i] = float32(rng.NormFloat64())
		}
	}
	if constrained {
		if k != len(bioLabels) {
			t.Fatalf("constrained test CRF needs K = %d", len(bioLabels))
		}
		at, as := BIOConstraints(bioLabels)
		if err := c.SetConstraints(at, as); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func randFloats(n int, rng *rand.Rand, sd float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(sd * rng.NormFloat64())
	}
	return v
}

// brute enumerates every path of one sequence ([n, K] emissions) under c's effective
// scores.
type bruteResult struct {
	logZ      float64
	best      []int32
	bestScore float64
	marg      []float64 // [n, K]
	forbidden float64   // total probability of paths using a forbidden start or transition
	paths     [][]int32 // every path, in enumeration order
	logp      []float64 // log p(path)
}

func pathScore(c *CRF, e []float32, y []int32) (s float64, forbidden bool) {
	k := c.K
	if c.startAllowed(int(y[0])) {
		s = float64(c.Start[y[0]])
	} else {
		s, forbidden = Forbidden, true
	}
	s += float64(c.End[y[len(y)-1]])
	for t, tag := range y {
		s += float64(e[t*k+int(tag)])
		if t > 0 {
			i := int(y[t-1])*k + int(tag)
			if c.transAllowed(i) {
				s += float64(c.Trans[i])
			} else {
				s, forbidden = s+Forbidden, true
			}
		}
	}
	return s, forbidden
}

func brute(c *CRF, e []float32, n int) bruteResult {
	k := c.K
	var r bruteResult
	var scores []float64
	var bad []bool
	total := 1
	for range n {
		total *= k
	}
	for code := range total {
		y := make([]int32, n)
		for t, v := 0, code; t < n; t, v = t+1, v/k {
			y[t] = int32(v % k)
		}
		s, f := pathScore(c, e, y)
		r.paths = append(r.paths, y)
		scores = append(scores, s)
		bad = append(bad, f)
		if r.best == nil || s > r.bestScore {
			r.best, r.bestScore = y, s
		}
	}
	r.logZ = logSumExp(scores)
	r.marg = make([]float64, n*k)
	for p, y := range r.paths {
		lp := scores[p] - r.logZ
		r.logp = append(r.logp, lp)
		for t, tag := range y {
			r.marg[t*k+int(tag)] += math.Exp(lp)
		}
		if bad[p] {
			r.forbidden += math.Exp(lp)
		}
	}
	return r
}

// samplePath draws a path with positive probability, so it is allowed under constraints.
func samplePath(r bruteResult, rng *rand.Rand) []int32 {
	u := rng.Float64()
	for p, lp := range r.logp {
		if u -= math.Exp(lp); u <= 0 {
			return r.paths[p]
		}
	}
	return r.best
}

func close64(a, b, tol float64) bool { return math.Abs(a-b) <= tol*max(1, math.Abs(a), math.Abs(b)) }

// tinyBatch is B = 3 sequences of lengths 4, 1, 3 padded to T = 4, over K = 3 tags.
func tinyBatch(t *testing.T, rng *rand.Rand, constrained bool) (c *CRF, em []float32, lens []int, gold []int32, bf []bruteResult) {
	const k, T = 3, 4
	c = randCRF(t, k, rng, constrained)
	lens = []int{4, 1, 3}
	em = randFloats(len(lens)*T*k, rng, 1.5)
	gold = make([]int32, len(lens)*T)
	for i := range gold {
		gold[i] = -1 // padding may hold anything
	}
	for b, n := range lens {
		r := brute(c, em[b*T*k:(b*T+n)*k], n)
		copy(gold[b*T:], samplePath(r, rng))
		bf = append(bf, r)
	}
	return c, em, lens, gold, bf
}

func TestCRFBruteForce(t *testing.T) {
	for _, constrained := range []bool{false, true} {
		name := map[bool]string{false: "free", true: "BIO"}[constrained]
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for trial := range 20 {
				c, em, lens, gold, bf := tinyBatch(t, rng, constrained)
				const k, T = 3, 4
				logZ, err := c.LogZ(em, lens)
				if err != nil {
					t.Fatal(err)
				}
				var wantNLL float64
				for b, n := range lens {
					if !close64(logZ[b], bf[b].logZ, 1e-12) {
						t.Errorf("trial %d seq %d: logZ %v, brute force %v", trial, b, logZ[b], bf[b].logZ)
					}
					s, _ := pathScore(c, em[b*T*k:], gold[b*T:b*T+n])
					wantNLL += (bf[b].logZ - s) / float64(len(lens))
				}
				nll, err := c.NLL(em, lens, gold)
				if err != nil {
					t.Fatal(err)
				}
				if !close64(nll, wantNLL, 1e-12) {
					t.Errorf("trial %d: NLL %v, brute force %v", trial, nll, wantNLL)
				}

				paths, scores, err := c.Viterbi(em, lens)
				if err != nil {
					t.Fatal(err)
				}
				_, conf, err := c.Decode(em, lens)
				if err != nil {
					t.Fatal(err)
				}
				marg, err := c.Marginals(em, lens)
				if err != nil {
					t.Fatal(err)
				}
				for b, n := range lens {
					r := bf[b]
					if !slices.Equal(paths[b], r.best) || !close64(scores[b], r.bestScore, 1e-12) {
						t.Errorf("trial %d seq %d: Viterbi %v (%v), brute force %v (%v)", trial, b, paths[b], scores[b], r.best, r.bestScore)
					}
					if want := math.Exp(r.bestScore - r.logZ); !close64(conf[b], want, 1e-9) {
						t.Errorf("trial %d seq %d: confidence %v, brute force %v", trial, b, conf[b], want)
					}
					for i := range n * k {
						if got := float64(marg[b*T*k+i]); math.Abs(got-r.marg[i]) > 1e-6 {
							t.Errorf("trial %d seq %d: marginal[%d] %v, brute force %v", trial, b, i, got, r.marg[i])
						}
					}
					for i := n * k; i < T*k; i++ {
						if marg[b*T*k+i] != 0 {
							t.Errorf("trial %d seq %d: padding marginal[%d] = %v", trial, b, i, marg[b*T*k+i])
						}
					}
					if constrained {
						if r.forbidden > 1e-300 {
							t.Errorf("trial %d seq %d: forbidden paths carry probability %v", trial, b, r.forbidden)
						}
						if marg[b*T*k+2] != 0 {
							t.Errorf("trial %d seq %d: p(y_0 = I-X) = %v, want 0", trial, b, marg[b*T*k+2])
						}
						assertBIO(t, paths[b])
					}
				}
			}
		})
	}
}

// assertBIO fails if a path over bioLabels starts with I-X or has O → I-X.
func assertBIO(t *testing.T, path []int32) {
	t.Helper()
	if path[0] == 2 {
		t.Errorf("path %v starts with I-X", path)
	}
	for s := 1; s < len(path); s++ {
		if path[s-1] == 0 && path[s] == 2 {
			t.Errorf("path %v has O → I-X at %d", path, s)
		}
	}
}

func TestCRFConstraintsOverrideStrongScores(t *testing.T) {
	// Emissions and scores that push hard towards I-X everywhere: the constrained
	// decoder must still start with a B-X and never go O → I-X.
	rng := rand.New(rand.NewPCG(3, 4))
	c := randCRF(t, 3, rng, true)
	c.Trans[0*3+2], c.Start[2] = 50, 50
	const T = 6
	em := make([]float32, 2*T*3)
	for i := range em {
		if i%3 == 2 {
			em[i] = 20
		}
	}
	lens := []int{T, 2}
	paths, _, err := c.Viterbi(em, lens)
	if err != nil {
		t.Fatal(err)
	}
	marg, err := c.Marginals(em, lens)
	if err != nil {
		t.Fatal(err)
	}
	for b := range lens {
		assertBIO(t, paths[b])
		if m := marg[b*T*3+2]; m != 0 {
			t.Errorf("seq %d: p(y_0 = I-X) = %v", b, m)
		}
	}
	// The learned scores of forbidden entries get no gradient.
	gold := make([]int32, 2*T)
	gold[0], gold[T] = 1, 1 // B-X then O ...
	if _, err := c.NLLBackward(em, lens, gold, nil); err != nil {
		t.Fatal(err)
	}
	at, as := BIOConstraints(bioLabels)
	for i, ok := range at {
		if !ok && c.TransGrad[i] != 0 {
			t.Errorf("forbidden transition %d has gradient %v", i, c.TransGrad[i])
		}
	}
	for i, ok := range as {
		if !ok && c.StartGrad[i] != 0 {
			t.Errorf("forbidden start %d has gradient %v", i, c.StartGrad[i])
		}
	}
}

func TestCRFStability(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	c := randCRF(t, 3, rng, true)
	const T = 5
	em := randFloats(T*3, rng, 1000)
	lens := []int{T}
	gold := []int32{1, 2, 0, 0, 1}
	nll, err := c.NLL(em, lens, gold)
	if err != nil || math.IsNaN(nll) || math.IsInf(nll, 0) || nll < -1e-9 {
		t.Fatalf("NLL with huge emissions = %v, %v", nll, err)
	}
	dem := make([]float32, len(em))
	if _, err := c.NLLBackward(em, lens, gold, dem); err != nil {
		t.Fatal(err)
	}
	marg, err := c.Marginals(em, lens)
	if err != nil {
		t.Fatal(err)
	}
	for s := range T {
		var sum float64
		for j := range 3 {
			m := float64(marg[s*3+j])
			if math.IsNaN(m) || math.IsNaN(float64(dem[s*3+j])) {
				t.Fatalf("NaN at position %d", s)
			}
			sum += m
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("marginals at %d sum to %v", s, sum)
		}
	}
	// Every path forbidden: scores stay finite.
	all := make([]bool, 9)
	if err := c.SetConstraints(all, nil); err != nil {
		t.Fatal(err)
	}
	z, err := c.LogZ(em, lens)
	if err != nil || math.IsNaN(z[0]) || math.IsInf(z[0], 0) {
		t.Errorf("logZ with every transition forbidden = %v, %v", z, err)
	}
}

// TestCRFExtremeScores checks against brute force where the rescaled sums underflow, so
// forward and backward fall back to the plain log-sum-exp.
func TestCRFExtremeScores(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	const k, T = 3, 4
	for trial := range 30 {
		c := randCRF(t, k, rng, trial%2 == 0)
		for _, p := range [][]float32{c.Trans, c.Start, c.End} {
			for i := range p {
				p[i] *= 300
			}
		}
		lens := []int{T, 2}
		em := randFloats(len(lens)*T*k, rng, 400)
		gold := make([]int32, len(lens)*T)
		var wantNLL float64
		wantTrans := make([]float64, k*k)
		var bf []bruteResult
		for b, n := range lens {
			r := brute(c, em[b*T*k:(b*T+n)*k], n)
			y := samplePath(r, rng)
			copy(gold[b*T:], y)
			s, _ := pathScore(c, em[b*T*k:], y)
			wantNLL += (r.logZ - s) / float64(len(lens))
			for p, path := range r.paths {
				for q := 1; q < n; q++ {
					wantTrans[int(path[q-1])*k+int(path[q])] += math.Exp(r.logp[p]) / float64(len(lens))
				}
			}
			for q := 1; q < n; q++ {
				wantTrans[int(y[q-1])*k+int(y[q])] -= 1 / float64(len(lens))
			}
			bf = append(bf, r)
		}
		c.ZeroGrad()
		dem := make([]float32, len(em))
		nll, err := c.NLLBackward(em, lens, gold, dem)
		if err != nil {
			t.Fatal(err)
		}
		if !close64(nll, wantNLL, 1e-9) {
			t.Errorf("trial %d: NLL %v, brute force %v", trial, nll, wantNLL)
		}
		for b, n := range lens {
			for i := range n * k {
				want := bf[b].marg[i] - indicator(gold[b*T+i/k], i%k)
				if got := float64(dem[b*T*k+i]); math.Abs(got-want/float64(len(lens))) > 1e-6 {
					t.Errorf("trial %d seq %d: emission gradient[%d] %v, brute force %v", trial, b, i, got, want/2)
				}
			}
		}
		for i, want := range wantTrans {
			if !c.transAllowed(i) {
				want = 0
			}
			if got := float64(c.TransGrad[i]); math.Abs(got-want) > 1e-6 {
				t.Errorf("trial %d: transition gradient[%d] %v, brute force %v", trial, i, got, want)
			}
		}
	}
}

func TestCRFGradCheck(t *testing.T) {
	for _, constrained := range []bool{false, true} {
		name := map[bool]string{false: "free", true: "BIO"}[constrained]
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			for trial := range 3 {
				c, em, lens, gold, _ := tinyBatch(t, rng, constrained)
				const k, T = 3, 4
				dem := make([]float32, len(em))
				c.ZeroGrad()
				if _, err := c.NLLBackward(em, lens, gold, dem); err != nil {
					t.Fatal(err)
				}
				loss := func() float64 {
					v, err := c.NLL(em, lens, gold)
					if err != nil {
						t.Fatal(err)
					}
					return v
				}
				check := func(what string, x []float32, grad []float32, skip func(i int) bool) {
					t.Helper()
					const h = 1.0 / 1024
					for i := range x {
						if skip != nil && skip(i) {
							if grad[i] != 0 {
								t.Errorf("trial %d %s[%d]: gradient %v, want exactly 0", trial, what, i, grad[i])
							}
							continue
						}
						orig := x[i]
						x[i] = orig + h
						up, xp := loss(), float64(x[i])
						x[i] = orig - h
						down, xm := loss(), float64(x[i])
						x[i] = orig
						num := (up - down) / (xp - xm)
						ana := float64(grad[i])
						if rel := math.Abs(ana-num) / max(math.Abs(ana), math.Abs(num), 1e-2); rel > 1e-3 {
							t.Errorf("trial %d %s[%d]: analytic %v, numeric %v (rel %v)", trial, what, i, ana, num, rel)
						}
					}
				}
				padding := func(i int) bool { return i%(T*k)/k >= lens[i/(T*k)] }
				check("emissions", em, dem, padding)
				check("trans", c.Trans, c.TransGrad, nil)
				check("start", c.Start, c.StartGrad, nil)
				check("end", c.End, c.EndGrad, nil)
			}
		})
	}
}

func TestCRFPaddingInvariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	c, em, lens, gold, _ := tinyBatch(t, rng, false)
	const k, T = 3, 4
	run := func(em []float32, gold []int32) (float64, []float32, []float32, [][]int32, []float64) {
		c.ZeroGrad()
		dem := make([]float32, len(em))
		nll, err := c.NLLBackward(em, lens, gold, dem)
		if err != nil {
			t.Fatal(err)
		}
		marg, err := c.Marginals(em, lens)
		if err != nil {
			t.Fatal(err)
		}
		paths, conf, err := c.Decode(em, lens)
		if err != nil {
			t.Fatal(err)
		}
		return nll, append(dem, c.TransGrad...), marg, paths, conf
	}
	nll1, g1, m1, p1, c1 := run(em, gold)
	em2, gold2 := slices.Clone(em), slices.Clone(gold)
	for b, n := range lens {
		for s := n; s < T; s++ {
			gold2[b*T+s] = int32(rng.IntN(100)) - 50
			for j := range k {
				em2[(b*T+s)*k+j] = float32(rng.NormFloat64() * 1e3)
			}
		}
	}
	nll2, g2, m2, p2, c2 := run(em2, gold2)
	if nll1 != nll2 || !slices.Equal(g1, g2) || !slices.Equal(m1, m2) || !slices.Equal(c1, c2) {
		t.Errorf("padding changed the results: NLL %v vs %v", nll1, nll2)
	}
	for b := range p1 {
		if !slices.Equal(p1[b], p2[b]) {
			t.Errorf("padding changed path %d: %v vs %v", b, p1[b], p2[b])
		}
	}
}

func TestCRFSplitBatch(t *testing.T) {
	// Two goroutines on disjoint sub-batches with their own Grads reproduce NLLBackward.
	rng := rand.New(rand.NewPCG(11, 12))
	const k, T = 3, 4
	c, em, lens, gold, _ := tinyBatch(t, rng, true)
	dem := make([]float32, len(em))
	c.ZeroGrad()
	want, err := c.NLLBackward(em, lens, gold, dem)
	if err != nil {
		t.Fatal(err)
	}
	scale := 1 / float64(len(lens))
	parts := [][2]int{{0, 1}, {1, 3}}
	grads := make([]Grads, len(parts))
	losses := make([]float64, len(parts))
	errs := make([]error, len(parts))
	pdem := make([]float32, len(em))
	var wg sync.WaitGroup
	for p, r := range parts {
		grads[p] = Grads{Emissions: pdem[r[0]*T*k : r[1]*T*k], Trans: make([]float32, k*k), Start: make([]float32, k), End: make([]float32, k)}
		wg.Go(func() {
			losses[p], errs[p] = c.ForwardBackward(em[r[0]*T*k:r[1]*T*k], lens[r[0]:r[1]], gold[r[0]*T:r[1]*T], scale, grads[p])
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := losses[0] + losses[1]; !close64(got, want, 1e-12) {
		t.Errorf("split loss %v, whole %v", got, want)
	}
	sum := func(a, b []float32) []float32 {
		out := make([]float32, len(a))
		for i := range a {
			out[i] = a[i] + b[i]
		}
		return out
	}
	for _, pair := range []struct {
		name      string
		got, want []float32
	}{
		{"emissions", pdem, dem},
		{"trans", sum(grads[0].Trans, grads[1].Trans), c.TransGrad},
		{"start", sum(grads[0].Start, grads[1].Start), c.StartGrad},
		{"end", sum(grads[0].End, grads[1].End), c.EndGrad},
	} {
		for i := range pair.got {
			if math.Abs(float64(pair.got[i]-pair.want[i])) > 1e-6 {
				t.Errorf("%s[%d]: split %v, whole %v", pair.name, i, pair.got[i], pair.want[i])
			}
		}
	}
}

func TestSpanConfidence(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const k, T = 3, 4
	c := randCRF(t, k, rng, true)
	em := randFloats(T*k, rng, 1)
	lens := []int{T}
	paths, _, err := c.Viterbi(em, lens)
	if err != nil {
		t.Fatal(err)
	}
	marg, err := c.Marginals(em, lens)
	if err != nil {
		t.Fatal(err)
	}
	r := brute(c, em, T)
	path := paths[0]
	for s := range T {
		for e := s + 1; e <= T; e++ {
			got, err := SpanConfidence(marg, k, path, s, e)
			if err != nil {
				t.Fatal(err)
			}
			want, exact := 1.0, 0.0
			for q := s; q < e; q++ {
				want = min(want, r.marg[q*k+int(path[q])])
			}
			for p, y := range r.paths {
				if slices.Equal(y[s:e], path[s:e]) {
					exact += math.Exp(r.logp[p])
				}
			}
			if math.Abs(got-want) > 1e-6 {
				t.Errorf("[%d,%d): %v, want min marginal %v", s, e, got, want)
			}
			if got < exact-1e-6 {
				t.Errorf("[%d,%d): %v below the exact span probability %v", s, e, got, exact)
			}
		}
	}
	for _, tc := range []struct {
		name string
		s, e int
		path []int32
	}{
		{"empty span", 2, 2, path},
		{"negative start", -1, 2, path},
		{"past the path", 2, T + 1, path},
		{"tag out of range", 0, 2, []int32{0, 7, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := SpanConfidence(marg, k, tc.path, tc.s, tc.e); !errors.Is(err, ErrCRFInput) {
				t.Errorf("error %v, want ErrCRFInput", err)
			}
		})
	}
}

func TestBIOConstraints(t *testing.T) {
	labels := []string{"O", "B-A", "I-A", "B-B", "I-B"}
	at, as := BIOConstraints(labels)
	if want := []bool{true, true, false, true, false}; !slices.Equal(as, want) {
		t.Errorf("start %v, want %v", as, want)
	}
	allowed := map[[2]string]bool{
		{"O", "I-A"}: false, {"O", "B-A"}: true, {"B-A", "I-A"}: true, {"I-A", "I-A"}: true,
		{"B-A", "I-B"}: false, {"I-B", "I-A"}: false, {"I-A", "O"}: true, {"B-B", "B-A"}: true,
	}
	idx := func(s string) int { return slices.Index(labels, s) }
	for pair, want := range allowed {
		if got := at[idx(pair[0])*len(labels)+idx(pair[1])]; got != want {
			t.Errorf("%s → %s allowed = %v, want %v", pair[0], pair[1], got, want)
		}
	}
}

func TestCRFParams(t *testing.T) {
	c, err := NewCRF(4)
	if err != nil {
		t.Fatal(err)
	}
	ps := c.Params()
	if len(ps) != 3 || ps[0].Name != "transitions" || !slices.Equal(ps[0].Shape, []int{4, 4}) {
		t.Fatalf("params %+v", ps)
	}
	for _, p := range ps {
		n := 1
		for _, d := range p.Shape {
			n *= d
		}
		if len(p.Data) != n || len(p.Grad) != n {
			t.Errorf("%s: %d data, %d grad for shape %v", p.Name, len(p.Data), len(p.Grad), p.Shape)
		}
		for _, v := range p.Data {
			if v != 0 {
				t.Errorf("%s not zero-initialised", p.Name)
			}
		}
	}
	ps[1].Data[2] = 5
	if c.Start[2] != 5 {
		t.Error("Params does not alias the CRF's storage")
	}
}

func TestCRFBadInput(t *testing.T) {
	const k, T = 3, 4
	good := func() ([]float32, []int, []int32) {
		return make([]float32, 2*T*k), []int{4, 2}, make([]int32, 2*T)
	}
	c, err := NewCRF(k)
	if err != nil {
		t.Fatal(err)
	}
	at, as := BIOConstraints(bioLabels)
	bio, err := NewCRF(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := bio.SetConstraints(at, as); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		crf    *CRF
		modify func(em *[]float32, lens *[]int, gold *[]int32, dem *[]float32)
		want   error
	}{
		{"emissions not B·T·K", c, func(em *[]float32, _ *[]int, _ *[]int32, _ *[]float32) { *em = (*em)[:len(*em)-1] }, ErrCRFInput},
		{"no emissions", c, func(em *[]float32, _ *[]int, _ *[]int32, _ *[]float32) { *em = nil }, ErrCRFInput},
		{"empty batch", c, func(em *[]float32, lens *[]int, gold *[]int32, _ *[]float32) { *em, *lens, *gold = nil, nil, nil }, ErrCRFInput},
		{"zero length", c, func(_ *[]float32, lens *[]int, _ *[]int32, _ *[]float32) { (*lens)[1] = 0 }, ErrCRFInput},
		{"negative length", c, func(_ *[]float32, lens *[]int, _ *[]int32, _ *[]float32) { (*lens)[0] = -3 }, ErrCRFInput},
		{"length past T", c, func(_ *[]float32, lens *[]int, _ *[]int32, _ *[]float32) { (*lens)[0] = T + 1 }, ErrCRFInput},
		{"gold too short", c, func(_ *[]float32, _ *[]int, gold *[]int32, _ *[]float32) { *gold = (*gold)[:T] }, ErrCRFInput},
		{"gold tag too big", c, func(_ *[]float32, _ *[]int, gold *[]int32, _ *[]float32) { (*gold)[T+1] = k }, ErrCRFInput},
		{"gold tag negative", c, func(_ *[]float32, _ *[]int, gold *[]int32, _ *[]float32) { (*gold)[0] = -1 }, ErrCRFInput},
		{"gradient wrong length", c, func(_ *[]float32, _ *[]int, _ *[]int32, dem *[]float32) { *dem = make([]float32, 5) }, ErrCRFInput},
		{"gold starts with I-X", bio, func(_ *[]float32, _ *[]int, gold *[]int32, _ *[]float32) { (*gold)[T] = 2 }, ErrCRFGoldForbidden},
		{"gold has O → I-X", bio, func(_ *[]float32, _ *[]int, gold *[]int32, _ *[]float32) { (*gold)[2] = 2 }, ErrCRFGoldForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			em, lens, gold := good()
			dem := make([]float32, len(em))
			tc.modify(&em, &lens, &gold, &dem)
			if _, err := tc.crf.NLL(em, lens, gold); tc.name != "gradient wrong length" && !errors.Is(err, tc.want) {
				t.Errorf("NLL error %v, want %v", err, tc.want)
			}
			if _, err := tc.crf.NLLBackward(em, lens, gold, dem); !errors.Is(err, tc.want) {
				t.Errorf("NLLBackward error %v, want %v", err, tc.want)
			}
		})
	}
	// Decoding checks emissions and lengths only; an empty batch is fine there.
	for _, tc := range tests[:6] {
		if tc.name == "empty batch" {
			continue
		}
		t.Run("decode "+tc.name, func(t *testing.T) {
			em, lens, gold := good()
			dem := make([]float32, len(em))
			tc.modify(&em, &lens, &gold, &dem)
			if _, _, err := c.Viterbi(em, lens); !errors.Is(err, ErrCRFInput) {
				t.Errorf("Viterbi error %v", err)
			}
			if _, err := c.Marginals(em, lens); !errors.Is(err, ErrCRFInput) {
				t.Errorf("Marginals error %v", err)
			}
			if _, _, err := c.Decode(em, lens); !errors.Is(err, ErrCRFInput) {
				t.Errorf("Decode error %v", err)
			}
		})
	}
	if p, _, err := c.Viterbi(nil, nil); err != nil || len(p) != 0 {
		t.Errorf("Viterbi of an empty batch = %v, %v", p, err)
	}
	if _, err := NewCRF(0); !errors.Is(err, ErrCRFInput) {
		t.Errorf("NewCRF(0) error %v", err)
	}
	if err := c.SetConstraints(make([]bool, 4), nil); !errors.Is(err, ErrCRFInput) {
		t.Errorf("SetConstraints with 4 transitions: %v", err)
	}
	if err := c.SetConstraints(nil, make([]bool, 2)); !errors.Is(err, ErrCRFInput) {
		t.Errorf("SetConstraints with 2 starts: %v", err)
	}
	broken := &CRF{K: k, Trans: make([]float32, k), Start: make([]float32, k), End: make([]float32, k)}
	em, lens, _ := good()
	if _, _, err := broken.Viterbi(em, lens); !errors.Is(err, ErrCRFInput) {
		t.Errorf("Viterbi with a short Trans: %v", err)
	}
}

// benchBatch is B = 32 sequences of length up to T = 128 over K = 13 tags (Yidu's BIO set).
func benchBatch(b *testing.B) (*CRF, []float32, []int, []int32, int) {
	const bsz, T, k = 32, 128, 13
	rng := rand.New(rand.NewPCG(15, 16))
	c, err := NewCRF(k)
	if err != nil {
		b.Fatal(err)
	}
	copy(c.Trans, randFloats(k*k, rng, 1))
	em := randFloats(bsz*T*k, rng, 2)
	lens := make([]int, bsz)
	gold := make([]int32, bsz*T)
	tokens := 0
	for i := range lens {
		lens[i] = T - rng.IntN(T/4)
		tokens += lens[i]
	}
	for i := range gold {
		gold[i] = int32(rng.IntN(k))
	}
	return c, em, lens, gold, tokens
}

func BenchmarkCRFNLLBackward(b *testing.B) {
	c, em, lens, gold, tokens := benchBatch(b)
	dem := make([]float32, len(em))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.NLLBackward(em, lens, gold, dem); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkCRFViterbi(b *testing.B) {
	c, em, lens, _, tokens := benchBatch(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Viterbi(em, lens); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tokens)*float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// TestMarginalsScaledMatchesLogSpace checks Marginals' probability-space fast path against the
// log-space forward–backward it falls back to, with constraints and ragged lengths, and that
// the fast path really ran.
func TestMarginalsScaledMatchesLogSpace(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, k := range []int{3, 5, 11} {
		for _, scale := range []float64{1, 5, 30} {
			c := randCRF(t, k, rng, k == 3)
			const T = 17
			lens := []int{T, 1, 9, 2}
			em := randFloats(len(lens)*T*k, rng, scale)
			got, err := c.Marginals(em, lens)
			if err != nil {
				t.Fatal(err)
			}
			w := getWork(c, T)
			for b, n := range lens {
				e := em[b*T*k : (b*T+n)*k]
				fast := make([]float32, n*k)
				if !w.marginalsScaled(e, n, fast) {
					t.Fatalf("K=%d scale %v seq %d: the fast path declined", k, scale, b)
				}
				logZ := w.forward(e, n)
				w.backward(e, n, logZ, false)
				for i := range n * k {
					want := math.Exp(w.alpha[i] + w.beta[i] - logZ)
					if d := math.Abs(float64(fast[i]) - want); d > 1e-6 {
						t.Fatalf("K=%d scale %v seq %d: marginal %d = %v, log space %v", k, scale, b, i, fast[i], want)
					}
					if got[b*T*k+i] != fast[i] {
						t.Fatalf("Marginals did not take the fast path")
					}
				}
			}
			crfPool.Put(w)
		}
	}
}

// BenchmarkCRFMarginals compares Marginals' probability-space path with the log-space one on
// a tagger-sized batch (K = 13, 32 sequences of 40).
func BenchmarkCRFMarginals(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	c := randCRF(b, 13, rng, false)
	const T, B = 40, 32
	em := randFloats(B*T*13, rng, 3)
	out := make([]float32, T*13)
	b.Run("scaled", func(b *testing.B) {
		w := getWork(c, T)
		defer crfPool.Put(w)
		for b.Loop() {
			for s := range B {
				w.marginalsScaled(em[s*T*13:(s+1)*T*13], T, out)
			}
		}
	})
	b.Run("log", func(b *testing.B) {
		w := getWork(c, T)
		defer crfPool.Put(w)
		for b.Loop() {
			for s := range B {
				e := em[s*T*13 : (s+1)*T*13]
				logZ := w.forward(e, T)
				w.backward(e, T, logZ, false)
				for i := range out {
					out[i] = float32(math.Exp(w.alpha[i] + w.beta[i] - logZ))
				}
			}
		}
	})
}
