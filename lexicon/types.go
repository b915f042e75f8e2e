package lexicon

import "fmt"

// CanonicalType is the dictionary's own entity type, shared by every schema.
// Its numeric values are part of the serialised format and of the feature
// ids (see [FeatureLabels]); append new types, never renumber.
type CanonicalType uint8

// The canonical types. TypeNone is not a term type: it marks "no type".
const (
	TypeNone       CanonicalType = iota
	TypeMedical                  // untyped medical vocabulary (MIXED_MEDICAL lists)
	TypeDisease                  // diseases and diagnoses
	TypeSymptom                  // symptoms and signs
	TypeDrug                     // drugs and drug products
	TypeCheck                    // examinations not known to be lab tests or imaging
	TypeLabTest                  // laboratory tests
	TypeImaging                  // imaging examinations
	TypeProcedure                // operations and other procedures
	TypeTreatment                // non-surgical treatments
	TypeBody                     // anatomy
	TypeDepartment               // hospital departments
	TypeFood                     // foods
	TypeTCM                      // traditional Chinese medicine terms and acupoints
	TypeMicrobe                  // micro-organisms
	TypeEquipment                // medical equipment
)

// NumTypes is the number of canonical types, TypeNone excluded.
const NumTypes = int(TypeEquipment)

var typeNames = [NumTypes + 1]string{
	"None", "Medical", "Disease", "Symptom", "Drug", "Check", "LabTest", "Imaging",
	"Procedure", "Treatment", "Body", "Department", "Food", "TCM", "Microbe", "Equipment",
}

// typeRank orders types for the priority rule: a lower rank wins.
var typeRank = func() [NumTypes + 1]uint8 {
	order := []CanonicalType{
		TypeLabTest, TypeImaging, TypeSymptom, TypeDisease, TypeBody, TypeCheck,
		TypeProcedure, TypeTreatment, TypeMicrobe, TypeEquipment, TypeDepartment,
		TypeDrug, TypeFood, TypeTCM, TypeMedical,
	}
	var r [NumTypes + 1]uint8
	r[TypeNone] = 255
	for i, t := range order {
		r[t] = uint8(i)
	}
	return r
}()

// String returns the type's name, e.g. "Symptom".
func (t CanonicalType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("CanonicalType(%d)", uint8(t))
}

// Valid reports whether t is a term type (not TypeNone, not out of range).
func (t CanonicalType) Valid() bool { return t > TypeNone && int(t) <= NumTypes }

// CanonicalTypes returns all term types in numeric order.
func CanonicalTypes() []CanonicalType {
	ts := make([]CanonicalType, NumTypes)
	for i := range ts {
		ts[i] = CanonicalType(i + 1)
	}
	return ts
}

// ParseCanonicalType returns the type named name (as printed by String).
func ParseCanonicalType(name string) (CanonicalType, error) {
	for i := 1; i <= NumTypes; i++ {
		if typeNames[i] == name {
			return CanonicalType(i), nil
		}
	}
	return TypeNone, fmt.Errorf("lexicon: unknown canonical type %q", name)
}

// listTypes maps the type column of combined_typed_lexicon.tsv to canonical
// types (see the package documentation for the reasons).
var listTypes = map[string]CanonicalType{
	"DISEASE":       TypeDisease,
	"DISEASE_GROUP": TypeDisease,
	"SYMPTOM":       TypeSymptom,
	"DRUG":          TypeDrug,
	"DRUG_PRODUCT":  TypeDrug,
	"EXAM":          TypeCheck,
	"PROCEDURE":     TypeProcedure,
	"BODY":          TypeBody,
	"BODY_ACUPOINT": TypeTCM,
	"FOOD":          TypeFood,
	"DEPARTMENT":    TypeDepartment,
	"MIXED_MEDICAL": TypeMedical,
	"MIXED_TCM":     TypeTCM,
}

// Origin says where a dictionary entry came from.
type Origin uint8

const (
	// OriginList marks entries from term lists (loaders, [Builder.AddListTerm]).
	OriginList Origin = iota
	// OriginAnnotation marks entries from training annotations ([Builder.Add]).
	OriginAnnotation
)

// String returns "list" or "annotation".
func (o Origin) String() string {
	switch o {
	case OriginList:
		return "list"
	case OriginAnnotation:
		return "annotation"
	}
	return fmt.Sprintf("Origin(%d)", uint8(o))
}

// Entry is one (type, source) reading of a term.
type Entry struct {
	Type   CanonicalType
	Source string
	Origin Origin
}
