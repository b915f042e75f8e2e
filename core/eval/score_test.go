package eval

import (
	"encoding/json"
	"errors"
	"math"
	"testing"

	"github.com/bingli/bingli/core/corpus"
)

const (
	sym  = "症状和体征"
	dis  = "疾病和诊断"
	body = "身体部位"
	exam = "检查和检验"
)

func ent(start, end int, typ string) corpus.Entity {
	return corpus.Entity{Start: start, End: end, Type: typ}
}

// handExample is the hand-computed cross-check: 2 documents, 7 gold, 6 predicted.
//
// d1 "患者头痛发热，诊断为上呼吸道感染。" (患0 者1 头2 痛3 发4 热5 ，6 诊7 断8 为9 上10 呼11
// 吸12 道13 感14 染15 。16)
//
//	gold [2,4) 头痛 症状       pred [2,4) 症状   exact match (TP)
//	gold [4,6) 发热 症状       pred [4,6) 疾病   type error (gold side 症状, pred side 疾病)
//	gold [10,16) 上呼吸道感染 疾病  pred [11,16) 疾病  boundary error (both sides 疾病)
//	gold [2,3) 头 身体部位     only the matched pred [2,4) overlaps it: missed
//
// d2 "右肺结节，行胸部CT检查。" (右0 肺1 结2 节3 ，4 行5 胸6 部7 C8 T9 检10 查11 。12)
//
//	gold [0,2) 右肺 身体部位   pred [0,2) 身体部位   TP
//	gold [8,10) CT 检查        pred [8,10) 检查     TP
//	gold [2,4) 结节 症状       no prediction overlaps: missed
//	                          pred [10,12) 检查 overlaps no gold: spurious
//
// Micro: TP=3, FP=6-3=3, FN=7-3=4; P=3/6=0.5, R=3/7=0.428571, F1=2·3/(6+7)=6/13=0.461538.
// Breakdown: type 1/1, boundary 1/1, boundary+type 0/0, missed 2, spurious 1
// (gold side 1+1+0+2=4=FN, pred side 1+1+0+1=3=FP).
//
//	type        gold pred TP  P    R    F1                       errors
//	症状和体征    3    1   1   1    1/3  2·1·(1/3)/(4/3)=1/2      type 1/0, missed 1
//	身体部位      2    1   1   1    1/2  2·(1/2)/(3/2)=2/3        missed 1
//	检查和检验    1    2   1   1/2  1    2/3                      spurious 1
//	疾病和诊断    1    2   0   0    0    0                        type 0/1, boundary 1/1
//
// Macro over the 4 gold types: P=(1+1+1/2+0)/4=5/8=0.625, R=(1/3+1/2+1+0)/4=11/24=0.458333,
// F1=(1/2+2/3+2/3+0)/4=11/24=0.458333.
func handExample() (gold, pred []corpus.Document) {
	t1 := "患者头痛发热，诊断为上呼吸道感染。"
	t2 := "右肺结节，行胸部CT检查。"
	gold = []corpus.Document{
		{ID: "d1", Text: t1, Entities: []corpus.Entity{ent(2, 4, sym), ent(4, 6, sym), ent(10, 16, dis), ent(2, 3, body)}},
		{ID: "d2", Text: t2, Entities: []corpus.Entity{ent(0, 2, body), ent(8, 10, exam), ent(2, 4, sym)}},
	}
	pred = []corpus.Document{
		{ID: "d2", Text: t2, Entities: []corpus.Entity{ent(0, 2, body), ent(8, 10, exam), ent(10, 12, exam)}},
		{ID: "d1", Entities: []corpus.Entity{ent(2, 4, sym), ent(4, 6, dis), ent(11, 16, dis)}},
	}
	return gold, pred
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestHandExample(t *testing.T) {
	gold, pred := handExample()
	r, err := Score(gold, pred)
	if err != nil {
		t.Fatal(err)
	}
	if r.Documents != 2 || r.MissingPredictions != 0 {
		t.Errorf("documents %d, missing %d; want 2, 0", r.Documents, r.MissingPredictions)
	}
	if want := (Counts{TP: 3, FP: 3, FN: 4}); r.Micro != want {
		t.Errorf("micro %+v, want %+v", r.Micro, want)
	}
	if !near(r.Micro.Precision(), 0.5) || !near(r.Micro.Recall(), 3.0/7) || !near(r.Micro.F1(), 6.0/13) {
		t.Errorf("micro P/R/F1 = %v/%v/%v, want 1/2, 3/7, 6/13", r.Micro.Precision(), r.Micro.Recall(), r.Micro.F1())
	}
	wantErrs := Breakdown{TypeGold: 1, TypePred: 1, BoundaryGold: 1, BoundaryPred: 1, Missed: 2, Spurious: 1}
	if r.Errors != wantErrs {
		t.Errorf("errors %+v, want %+v", r.Errors, wantErrs)
	}
	want := []struct {
		TypeScore
		p, r, f1 float64
	}{
		{TypeScore{sym, Counts{TP: 1, FP: 0, FN: 2}, Breakdown{TypeGold: 1, Missed: 1}}, 1, 1.0 / 3, 0.5},
		{TypeScore{body, Counts{TP: 1, FP: 0, FN: 1}, Breakdown{Missed: 1}}, 1, 0.5, 2.0 / 3},
		{TypeScore{exam, Counts{TP: 1, FP: 1, FN: 0}, Breakdown{Spurious: 1}}, 0.5, 1, 2.0 / 3},
		{TypeScore{dis, Counts{TP: 0, FP: 2, FN: 1}, Breakdown{TypePred: 1, BoundaryGold: 1, BoundaryPred: 1}}, 0, 0, 0},
	}
	if len(r.Types) != len(want) {
		t.Fatalf("%d types, want %d: %+v", len(r.Types), len(want), r.Types)
	}
	for i, w := range want {
		got := r.Types[i]
		if got != w.TypeScore {
			t.Errorf("type %d: %+v, want %+v", i, got, w.TypeScore)
		}
		c := got.Counts
		if !near(c.Precision(), w.p) || !near(c.Recall(), w.r) || !near(c.F1(), w.f1) {
			t.Errorf("%s P/R/F1 = %v/%v/%v, want %v/%v/%v", got.Type, c.Precision(), c.Recall(), c.F1(), w.p, w.r, w.f1)
		}
	}
	m := r.Macro()
	if m.Types != 4 || !near(m.Precision, 5.0/8) || !near(m.Recall, 11.0/24) || !near(m.F1, 11.0/24) {
		t.Errorf("macro %+v, want 4 types, P 5/8, R 11/24, F1 11/24", m)
	}
}

// checkInvariants asserts that the breakdown accounts for every FN and FP, per type and in total.
func checkInvariants(t *testing.T, r *Result) {
	t.Helper()
	check := func(name string, c Counts, b Breakdown) {
		if g := b.TypeGold + b.BoundaryGold + b.BoundaryTypeGold + b.Missed; g != c.FN {
			t.Errorf("%s: gold-side breakdown %d != FN %d", name, g, c.FN)
		}
		if p := b.TypePred + b.BoundaryPred + b.BoundaryTypePred + b.Spurious; p != c.FP {
			t.Errorf("%s: pred-side breakdown %d != FP %d", name, p, c.FP)
		}
	}
	check("total", r.Micro, r.Errors)
	for _, ts := range r.Types {
		check(ts.Type, ts.Counts, ts.Errors)
	}
}

func TestScore(t *testing.T) {
	tests := []struct {
		name        string
		gold, pred  []corpus.Document
		micro       Counts
		docs, miss  int
		errs        Breakdown
		macroF1     float64
		macroTypes  int
		resultTypes int
	}{
		{
			name: "empty gold and pred",
		},
		{
			name: "empty documents",
			gold: []corpus.Document{{ID: "a"}},
			pred: []corpus.Document{{ID: "a"}},
			docs: 1,
		},
		{
			name: "duplicates count once",
			gold: []corpus.Document{{ID: "a", Entities: []corpus.Entity{ent(0, 2, sym), ent(0, 2, sym), ent(3, 4, dis)}}},
			pred: []corpus.Document{{ID: "a", Entities: []corpus.Entity{ent(0, 2, sym), ent(0, 2, sym), ent(5, 6, dis), ent(5, 6, dis)}}},
			docs: 1, micro: Counts{TP: 1, FP: 1, FN: 1},
			errs:    Breakdown{Missed: 1, Spurious: 1},
			macroF1: (1 + 0) / 2.0, macroTypes: 2, resultTypes: 2,
		},
		{
			name: "missing prediction document",
			gold: []corpus.Document{
				{ID: "a", Entities: []corpus.Entity{ent(0, 2, sym)}},
				{ID: "b", Entities: []corpus.Entity{ent(0, 1, sym), ent(1, 2, sym)}},
			},
			pred: []corpus.Document{{ID: "a", Entities: []corpus.Entity{ent(0, 2, sym)}}},
			docs: 2, miss: 1, micro: Counts{TP: 1, FN: 2},
			errs:    Breakdown{Missed: 2},
			macroF1: 0.5, macroTypes: 1, resultTypes: 1,
		},
		{
			name: "all predictions missing",
			gold: []corpus.Document{{ID: "a", Entities: []corpus.Entity{ent(0, 2, sym)}}},
			docs: 1, miss: 1, micro: Counts{FN: 1},
			errs: Breakdown{Missed: 1}, macroTypes: 1, resultTypes: 1,
		},
		{
			name: "type only in predictions is outside macro",
			gold: []corpus.Document{{ID: "a", Entities: []corpus.Entity{ent(0, 2, sym)}}},
			pred: []corpus.Document{{ID: "a", Entities: []corpus.Entity{ent(0, 2, sym), ent(4, 5, "药物")}}},
			docs: 1, micro: Counts{TP: 1, FP: 1},
			errs:    Breakdown{Spurious: 1},
			macroF1: 1, macroTypes: 1, resultTypes: 2,
		},
		{
			name: "macro is the mean of per-type F1",
			// sym: TP 2 FN 0 FP 0 → F1 1; dis: TP 1 FP 1 FN 1 → F1 1/2; body: TP 0 FN 1 → 0.
			gold: []corpus.Document{{ID: "a", Entities: []corpus.Entity{
				ent(0, 1, sym), ent(1, 2, sym), ent(3, 4, dis), ent(5, 6, dis), ent(8, 9, body)}}},
			pred: []corpus.Document{{ID: "a", Entities: []corpus.Entity{
				ent(0, 1, sym), ent(1, 2, sym), ent(3, 4, dis), ent(6, 7, dis)}}},
			docs: 1, micro: Counts{TP: 3, FP: 1, FN: 2},
			errs:    Breakdown{Missed: 2, Spurious: 1},
			macroF1: (1 + 0.5 + 0) / 3, macroTypes: 3, resultTypes: 3,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Score(tc.gold, tc.pred)
			if err != nil {
				t.Fatal(err)
			}
			if r.Documents != tc.docs || r.MissingPredictions != tc.miss {
				t.Errorf("documents %d, missing %d; want %d, %d", r.Documents, r.MissingPredictions, tc.docs, tc.miss)
			}
			if r.Micro != tc.micro {
				t.Errorf("micro %+v, want %+v", r.Micro, tc.micro)
			}
			if r.Errors != tc.errs {
				t.Errorf("errors %+v, want %+v", r.Errors, tc.errs)
			}
			if m := r.Macro(); m.Types != tc.macroTypes || !near(m.F1, tc.macroF1) {
				t.Errorf("macro %+v, want %d types, F1 %v", m, tc.macroTypes, tc.macroF1)
			}
			if len(r.Types) != tc.resultTypes {
				t.Errorf("%d type rows, want %d", len(r.Types), tc.resultTypes)
			}
			checkInvariants(t, r)
		})
	}
}

func TestZeroWhenUndefined(t *testing.T) {
	var c Counts
	if c.Precision() != 0 || c.Recall() != 0 || c.F1() != 0 {
		t.Errorf("empty counts: P/R/F1 = %v/%v/%v, want 0", c.Precision(), c.Recall(), c.F1())
	}
	c = Counts{FP: 2, FN: 3}
	if c.Precision() != 0 || c.Recall() != 0 || c.F1() != 0 {
		t.Errorf("no TP: P/R/F1 = %v/%v/%v, want 0", c.Precision(), c.Recall(), c.F1())
	}
}

// TestStrict fails if scoring ignores the type or either boundary.
func TestStrict(t *testing.T) {
	gold := []corpus.Entity{ent(2, 5, dis)}
	for _, p := range []corpus.Entity{ent(2, 6, dis), ent(2, 4, dis), ent(1, 5, dis), ent(3, 5, dis), ent(2, 5, sym)} {
		var s Scorer
		if err := s.Add(gold, []corpus.Entity{p}); err != nil {
			t.Fatal(err)
		}
		if r := s.Result(); r.Micro != (Counts{FP: 1, FN: 1}) {
			t.Errorf("pred %+v against gold %+v: %+v, want no TP", p, gold[0], r.Micro)
		}
	}
	var s Scorer
	if err := s.Add(gold, gold); err != nil {
		t.Fatal(err)
	}
	if r := s.Result(); r.Micro != (Counts{TP: 1}) {
		t.Errorf("exact prediction: %+v, want 1 TP", r.Micro)
	}
}

func TestBreakdown(t *testing.T) {
	tests := []struct {
		name       string
		gold, pred []corpus.Entity
		want       Breakdown
		perType    map[string]Breakdown
	}{
		{
			name: "type error",
			gold: []corpus.Entity{ent(0, 4, sym)}, pred: []corpus.Entity{ent(0, 4, dis)},
			want:    Breakdown{TypeGold: 1, TypePred: 1},
			perType: map[string]Breakdown{sym: {TypeGold: 1}, dis: {TypePred: 1}},
		},
		{
			name: "boundary error",
			gold: []corpus.Entity{ent(0, 4, sym)}, pred: []corpus.Entity{ent(1, 5, sym)},
			want:    Breakdown{BoundaryGold: 1, BoundaryPred: 1},
			perType: map[string]Breakdown{sym: {BoundaryGold: 1, BoundaryPred: 1}},
		},
		{
			name: "boundary+type error",
			gold: []corpus.Entity{ent(0, 4, sym)}, pred: []corpus.Entity{ent(2, 3, body)},
			want:    Breakdown{BoundaryTypeGold: 1, BoundaryTypePred: 1},
			perType: map[string]Breakdown{sym: {BoundaryTypeGold: 1}, body: {BoundaryTypePred: 1}},
		},
		{
			name: "missed and spurious, adjacent spans do not overlap",
			gold: []corpus.Entity{ent(0, 4, sym)}, pred: []corpus.Entity{ent(4, 6, sym)},
			want:    Breakdown{Missed: 1, Spurious: 1},
			perType: map[string]Breakdown{sym: {Missed: 1, Spurious: 1}},
		},
		{
			name: "one gold split into two predictions",
			gold: []corpus.Entity{ent(0, 10, dis)}, pred: []corpus.Entity{ent(0, 3, dis), ent(5, 10, dis)},
			want: Breakdown{BoundaryGold: 1, BoundaryPred: 2},
		},
		{
			name: "priority type over boundary over boundary+type",
			gold: []corpus.Entity{ent(0, 4, sym)},
			pred: []corpus.Entity{ent(0, 4, dis), ent(0, 2, sym), ent(2, 6, body)},
			// gold: same span exists → type. pred [0,4) dis: type; [0,2) sym: boundary;
			// [2,6) body: boundary+type.
			want: Breakdown{TypeGold: 1, TypePred: 1, BoundaryPred: 1, BoundaryTypePred: 1},
		},
		{
			name: "priority boundary over boundary+type",
			gold: []corpus.Entity{ent(0, 4, sym), ent(2, 8, dis)},
			pred: []corpus.Entity{ent(1, 5, sym)},
			// gold [0,4) sym: boundary; gold [2,8) dis: boundary+type; pred: boundary (via sym).
			want: Breakdown{BoundaryGold: 1, BoundaryTypeGold: 1, BoundaryPred: 1},
		},
		{
			name: "matched prediction does not explain a nested gold",
			gold: []corpus.Entity{ent(0, 4, dis), ent(0, 2, body)},
			pred: []corpus.Entity{ent(0, 4, dis)},
			want: Breakdown{Missed: 1},
		},
		{
			name: "matched gold does not explain a nested prediction",
			gold: []corpus.Entity{ent(0, 4, dis)},
			pred: []corpus.Entity{ent(0, 4, dis), ent(1, 3, dis)},
			want: Breakdown{Spurious: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Scorer
			if err := s.Add(tc.gold, tc.pred); err != nil {
				t.Fatal(err)
			}
			r := s.Result()
			if r.Errors != tc.want {
				t.Errorf("errors %+v, want %+v", r.Errors, tc.want)
			}
			for _, ts := range r.Types {
				if want, ok := tc.perType[ts.Type]; ok && ts.Errors != want {
					t.Errorf("%s errors %+v, want %+v", ts.Type, ts.Errors, want)
				}
			}
			checkInvariants(t, r)
		})
	}
}

func TestScoreErrors(t *testing.T) {
	doc := func(id, text string, es ...corpus.Entity) corpus.Document {
		return corpus.Document{ID: id, Text: text, Entities: es}
	}
	tests := []struct {
		name       string
		gold, pred []corpus.Document
		want       error
	}{
		{"duplicate gold ID", []corpus.Document{doc("a", ""), doc("a", "")}, nil, ErrDuplicateID},
		{"duplicate pred ID", []corpus.Document{doc("a", "")}, []corpus.Document{doc("a", ""), doc("a", "")}, ErrDuplicateID},
		{"unknown pred ID", []corpus.Document{doc("a", "")}, []corpus.Document{doc("b", "")}, ErrUnknownID},
		{"texts differ", []corpus.Document{doc("a", "头痛")}, []corpus.Document{doc("a", "头疼")}, ErrTextMismatch},
		{"end beyond gold text", []corpus.Document{doc("a", "头痛", ent(0, 3, sym))}, nil, ErrBadEntity},
		{"end beyond pred text", []corpus.Document{doc("a", "")}, []corpus.Document{doc("a", "头痛", ent(1, 3, sym))}, ErrBadEntity},
		{"empty span", []corpus.Document{doc("a", "", ent(1, 1, sym))}, nil, ErrBadEntity},
		{"negative start", []corpus.Document{doc("a", "")}, []corpus.Document{doc("a", "", ent(-1, 1, sym))}, ErrBadEntity},
		{"empty type", []corpus.Document{doc("a", "", ent(0, 1, ""))}, nil, ErrBadEntity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Score(tc.gold, tc.pred)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if r != nil {
				t.Errorf("result %+v with error", r)
			}
			t.Log(err)
		})
	}
	// Only one text present, or equal texts: no error.
	if _, err := Score([]corpus.Document{doc("a", ""), doc("b", "x")}, []corpus.Document{doc("a", "x"), doc("b", "x")}); err != nil {
		t.Errorf("compatible texts: %v", err)
	}
}

func TestScorerAddError(t *testing.T) {
	var s Scorer
	if err := s.Add([]corpus.Entity{ent(0, 2, sym)}, []corpus.Entity{ent(3, 2, sym)}); !errors.Is(err, ErrBadEntity) {
		t.Fatalf("error %v, want ErrBadEntity", err)
	}
	if r := s.Result(); r.Documents != 0 || r.Micro != (Counts{}) {
		t.Errorf("failed Add recorded %+v", r)
	}
}

func TestResultIsSnapshot(t *testing.T) {
	var s Scorer
	if err := s.Add([]corpus.Entity{ent(0, 1, sym)}, nil); err != nil {
		t.Fatal(err)
	}
	r := s.Result()
	if err := s.Add([]corpus.Entity{ent(0, 1, sym)}, []corpus.Entity{ent(0, 1, sym)}); err != nil {
		t.Fatal(err)
	}
	if r.Documents != 1 || r.Types[0].Counts != (Counts{FN: 1}) {
		t.Errorf("earlier result changed: %+v", r)
	}
	if r2 := s.Result(); r2.Documents != 2 || r2.Micro != (Counts{TP: 1, FN: 1}) {
		t.Errorf("second result %+v", r2)
	}
}

func TestJSON(t *testing.T) {
	gold, pred := handExample()
	r, err := Score(gold, pred)
	if err != nil {
		t.Fatal(err)
	}
	r.Protocol, r.Split = "hand-example", "test"
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Protocol string `json:"protocol"`
		Split    string `json:"split"`
		Micro    struct {
			TP, Gold, Pred int
			Precision      float64
			F1             float64
		} `json:"micro"`
		Macro Macro `json:"macro"`
		Types []struct {
			Type   string
			Counts struct{ Recall float64 }
			Errors struct {
				Missed int `json:"missed"`
			}
		} `json:"types"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Protocol != "hand-example" || raw.Split != "test" || raw.Micro.TP != 3 || raw.Micro.Gold != 7 ||
		raw.Micro.Pred != 6 || !near(raw.Micro.Precision, 0.5) || !near(raw.Micro.F1, 6.0/13) ||
		raw.Macro.Types != 4 || !near(raw.Macro.F1, 11.0/24) || len(raw.Types) != 4 ||
		raw.Types[0].Type != sym || !near(raw.Types[0].Counts.Recall, 1.0/3) || raw.Types[0].Errors.Missed != 1 {
		t.Errorf("unexpected JSON: %s", data)
	}
	var back Result
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(&back)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(data) {
		t.Errorf("round trip changed the JSON:\n%s\n%s", data, again)
	}
}
