package lexicon

import (
	"fmt"
	"slices"
	"strings"
)

// SchemaMap relates canonical types to the entity types ("labels") of one
// dataset schema, in both directions.
type SchemaMap struct {
	name     string
	labels   []string
	toSchema [NumTypes + 1]string
	// checkRule: for TypeCheck, the label of imaging-like terms and of the
	// others (see [LooksLikeImaging]); empty when Check uses toSchema.
	checkImaging, checkOther string
	toCanonical              map[string]CanonicalType
}

// Name returns the schema's name, e.g. "yidu".
func (m *SchemaMap) Name() string { return m.name }

// Labels returns the schema's entity types in the dataset's usual order.
func (m *SchemaMap) Labels() []string { return slices.Clone(m.labels) }

// Label returns the schema label a dictionary match of type t gets, for a
// dictionary-only tagger, and false when matches of that type get none.
// term is the matched (normalised) text; it only matters for TypeCheck in
// schemas that split examinations (see the package documentation).
func (m *SchemaMap) Label(t CanonicalType, term []rune) (string, bool) {
	if t == TypeCheck && m.checkImaging != "" {
		if LooksLikeImaging(term) {
			return m.checkImaging, true
		}
		return m.checkOther, true
	}
	if !t.Valid() {
		return "", false
	}
	l := m.toSchema[t]
	return l, l != ""
}

// Canonical returns the canonical type of a schema label, used to add
// training annotations to the dictionary, and false for labels with none
// (e.g. cmedqaner's "time").
func (m *SchemaMap) Canonical(label string) (CanonicalType, bool) {
	t, ok := m.toCanonical[label]
	return t, ok
}

// imagingMarkers are the substrings that make an examination term imaging.
var imagingMarkers = []string{
	"ct", "mr", "pet", "dr", "x线", "x光", "超声", "b超", "彩超", "造影",
	"片", "核磁", "磁共振", "扫描", "显像", "钼靶", "透视",
}

// LooksLikeImaging reports whether a (normalised, Latin lower-case)
// examination term names an imaging study: it contains one of ct, mr (so
// also mri, mra), pet, dr, x线, x光, 超声, b超, 彩超, 造影, 片, 核磁, 磁共振, 扫描, 显像, 钼靶, 透视.
func LooksLikeImaging(term []rune) bool {
	s := string(term)
	for _, m := range imagingMarkers {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

type schemaSpec struct {
	labels       []string
	toSchema     map[CanonicalType]string
	checkImaging string
	checkOther   string
	toCanonical  map[string]CanonicalType
}

var schemaSpecs = map[string]schemaSpec{
	"ccks2017": {
		labels: []string{"身体部位", "检查和检验", "症状和体征", "疾病和诊断", "治疗"},
		toSchema: map[CanonicalType]string{
			TypeBody: "身体部位", TypeCheck: "检查和检验", TypeLabTest: "检查和检验", TypeImaging: "检查和检验",
			TypeSymptom: "症状和体征", TypeDisease: "疾病和诊断",
			TypeDrug: "治疗", TypeProcedure: "治疗", TypeTreatment: "治疗",
		},
		toCanonical: map[string]CanonicalType{
			"身体部位": TypeBody, "检查和检验": TypeCheck, "症状和体征": TypeSymptom,
			"疾病和诊断": TypeDisease, "治疗": TypeTreatment,
		},
	},
	"yidu": {
		labels: []string{"解剖部位", "疾病和诊断", "药物", "实验室检验", "手术", "影像检查"},
		toSchema: map[CanonicalType]string{
			TypeBody: "解剖部位", TypeDisease: "疾病和诊断", TypeDrug: "药物",
			TypeLabTest: "实验室检验", TypeProcedure: "手术", TypeImaging: "影像检查",
		},
		checkImaging: "影像检查", checkOther: "实验室检验",
		toCanonical: map[string]CanonicalType{
			"解剖部位": TypeBody, "疾病和诊断": TypeDisease, "药物": TypeDrug,
			"实验室检验": TypeLabTest, "手术": TypeProcedure, "影像检查": TypeImaging,
		},
	},
	"cehrner": {
		labels: []string{"解剖部位", "疾病和诊断", "症状", "药物", "实验室检验", "手术", "影像检查"},
		toSchema: map[CanonicalType]string{
			TypeBody: "解剖部位", TypeDisease: "疾病和诊断", TypeSymptom: "症状", TypeDrug: "药物",
			TypeLabTest: "实验室检验", TypeProcedure: "手术", TypeImaging: "影像检查",
		},
		checkImaging: "影像检查", checkOther: "实验室检验",
		toCanonical: map[string]CanonicalType{
			"解剖部位": TypeBody, "疾病和诊断": TypeDisease, "症状": TypeSymptom, "药物": TypeDrug,
			"实验室检验": TypeLabTest, "手术": TypeProcedure, "影像检查": TypeImaging,
		},
	},
	"ccks2018": {
		labels: []string{"AnatomicSite", "IndependentSymptoms", "SymptomsDescribed", "Operation", "Medicine"},
		toSchema: map[CanonicalType]string{
			TypeBody: "AnatomicSite", TypeSymptom: "IndependentSymptoms",
			TypeProcedure: "Operation", TypeDrug: "Medicine",
		},
		toCanonical: map[string]CanonicalType{
			"AnatomicSite": TypeBody, "IndependentSymptoms": TypeSymptom, "SymptomsDescribed": TypeSymptom,
			"Operation": TypeProcedure, "Medicine": TypeDrug,
		},
	},
	"cmeee": {
		labels: []string{"dis", "sym", "pro", "equ", "dru", "ite", "bod", "dep", "mic"},
		toSchema: map[CanonicalType]string{
			TypeDisease: "dis", TypeSymptom: "sym", TypeProcedure: "pro", TypeTreatment: "pro",
			TypeImaging: "pro", TypeEquipment: "equ", TypeDrug: "dru", TypeLabTest: "ite",
			TypeBody: "bod", TypeDepartment: "dep", TypeMicrobe: "mic",
		},
		checkImaging: "pro", checkOther: "ite",
		toCanonical: map[string]CanonicalType{
			"dis": TypeDisease, "sym": TypeSymptom, "pro": TypeProcedure, "equ": TypeEquipment,
			"dru": TypeDrug, "ite": TypeLabTest, "bod": TypeBody, "dep": TypeDepartment, "mic": TypeMicrobe,
		},
	},
	"cmedqaner": {
		labels: []string{"body", "crowd", "department", "disease", "drug", "feature", "physiology", "symptom", "test", "time", "treatment"},
		toSchema: map[CanonicalType]string{
			TypeBody: "body", TypeDepartment: "department", TypeDisease: "disease", TypeDrug: "drug",
			TypeSymptom: "symptom", TypeCheck: "test", TypeLabTest: "test", TypeImaging: "test",
			TypeProcedure: "treatment", TypeTreatment: "treatment",
		},
		toCanonical: map[string]CanonicalType{
			"body": TypeBody, "department": TypeDepartment, "disease": TypeDisease, "drug": TypeDrug,
			"symptom": TypeSymptom, "test": TypeCheck, "treatment": TypeTreatment,
		},
	},
}

// SchemaNames returns the names accepted by [Schema], sorted.
func SchemaNames() []string {
	names := make([]string, 0, len(schemaSpecs))
	for n := range schemaSpecs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Schema returns the map of the named schema (see [SchemaNames]).
func Schema(name string) (*SchemaMap, error) {
	spec, ok := schemaSpecs[name]
	if !ok {
		return nil, fmt.Errorf("lexicon: unknown schema %q (known: %s)", name, strings.Join(SchemaNames(), ", "))
	}
	m := &SchemaMap{
		name:         name,
		labels:       spec.labels,
		checkImaging: spec.checkImaging,
		checkOther:   spec.checkOther,
		toCanonical:  spec.toCanonical,
	}
	for t, l := range spec.toSchema {
		m.toSchema[t] = l
	}
	return m, nil
}
