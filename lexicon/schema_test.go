package lexicon

import (
	"slices"
	"testing"
)

func TestSchemaNames(t *testing.T) {
	want := []string{"ccks2017", "ccks2018", "cehrner", "cmedqaner", "cmeee", "yidu"}
	if got := SchemaNames(); !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := Schema("nope"); err == nil {
		t.Error("unknown schema accepted")
	}
}

// TestSchemaConsistency: every label a canonical type maps to is a schema
// label, every schema label's canonical type maps back to that label or to
// a label of the same family, and labels are distinct.
func TestSchemaConsistency(t *testing.T) {
	for _, name := range SchemaNames() {
		t.Run(name, func(t *testing.T) {
			m, err := Schema(name)
			if err != nil {
				t.Fatal(err)
			}
			labels := m.Labels()
			for _, ct := range CanonicalTypes() {
				for _, term := range []string{"胸部ct", "血常规"} {
					if l, ok := m.Label(ct, []rune(term)); ok && !slices.Contains(labels, l) {
						t.Errorf("%v → %q is not a label", ct, l)
					}
				}
			}
			for _, l := range labels {
				ct, ok := m.Canonical(l)
				if !ok {
					continue
				}
				if _, ok := m.Label(ct, []rune("血常规")); !ok {
					t.Errorf("%q → %v has no label back", l, ct)
				}
			}
			for _, ct := range []CanonicalType{TypeMedical, TypeFood, TypeTCM, TypeNone} {
				if l, ok := m.Label(ct, nil); ok {
					t.Errorf("%v → %q, want none", ct, l)
				}
			}
		})
	}
}

func TestSchemaMaps(t *testing.T) {
	tests := []struct {
		schema string
		typ    CanonicalType
		term   string
		want   string // "" = no label
	}{
		{"ccks2017", TypeBody, "", "身体部位"},
		{"ccks2017", TypeImaging, "", "检查和检验"},
		{"ccks2017", TypeCheck, "血常规", "检查和检验"},
		{"ccks2017", TypeDrug, "", "治疗"},
		{"ccks2017", TypeProcedure, "", "治疗"},
		{"yidu", TypeCheck, "胸部ct", "影像检查"},
		{"yidu", TypeCheck, "腹部b超", "影像检查"},
		{"yidu", TypeCheck, "胸片", "影像检查"},
		{"yidu", TypeCheck, "头颅mri", "影像检查"},
		{"yidu", TypeCheck, "血常规", "实验室检验"},
		{"yidu", TypeLabTest, "胸部ct", "实验室检验"},
		{"yidu", TypeSymptom, "", ""},
		{"yidu", TypeProcedure, "", "手术"},
		{"ccks2018", TypeSymptom, "", "IndependentSymptoms"},
		{"ccks2018", TypeDisease, "", ""},
		{"cmeee", TypeCheck, "血常规", "ite"},
		{"cmeee", TypeCheck, "胸部ct", "pro"},
		{"cmeee", TypeMicrobe, "", "mic"},
		{"cmedqaner", TypeCheck, "胸部ct", "test"},
		{"cmedqaner", TypeProcedure, "", "treatment"},
		{"cehrner", TypeSymptom, "", "症状"},
	}
	for _, tt := range tests {
		t.Run(tt.schema+"/"+tt.typ.String()+"/"+tt.term, func(t *testing.T) {
			m, _ := Schema(tt.schema)
			got, ok := m.Label(tt.typ, []rune(tt.term))
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("got %q %v, want %q", got, ok, tt.want)
			}
		})
	}
	back := []struct {
		schema, label string
		want          CanonicalType
	}{
		{"ccks2017", "治疗", TypeTreatment},
		{"ccks2017", "检查和检验", TypeCheck},
		{"yidu", "影像检查", TypeImaging},
		{"yidu", "实验室检验", TypeLabTest},
		{"ccks2018", "SymptomsDescribed", TypeSymptom},
		{"cmeee", "ite", TypeLabTest},
		{"cmeee", "equ", TypeEquipment},
		{"cmedqaner", "time", TypeNone},
		{"cmedqaner", "crowd", TypeNone},
		{"cmedqaner", "test", TypeCheck},
	}
	for _, tt := range back {
		t.Run(tt.schema+"/"+tt.label, func(t *testing.T) {
			m, _ := Schema(tt.schema)
			got, ok := m.Canonical(tt.label)
			if got != tt.want || ok != (tt.want != TypeNone) {
				t.Errorf("got %v %v, want %v", got, ok, tt.want)
			}
		})
	}
}

func TestTypeNames(t *testing.T) {
	for _, ct := range CanonicalTypes() {
		got, err := ParseCanonicalType(ct.String())
		if err != nil || got != ct {
			t.Errorf("%v: %v %v", ct, got, err)
		}
	}
	if _, err := ParseCanonicalType("None"); err == nil {
		t.Error("None parsed")
	}
	if CanonicalType(200).String() != "CanonicalType(200)" || CanonicalType(200).Valid() {
		t.Error("out-of-range type")
	}
	ranks := map[uint8]bool{}
	for _, typ := range CanonicalTypes() {
		if typeRank[typ] == 255 || ranks[typeRank[typ]] {
			t.Errorf("%v has no priority of its own", typ)
		}
		ranks[typeRank[typ]] = true
	}
}
