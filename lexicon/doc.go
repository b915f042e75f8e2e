// Package lexicon is bingli's typed medical dictionary: it loads term lists
// and training-annotation terms, stores them in a compact double-array trie,
// segments text by forward, backward and bidirectional maximum matching
// (BiMM, as in BiLM_BNER) and turns the segmentation into per-character
// BIO-type dictionary features for the tagger. It also maps its canonical
// types to and from the entity types of each dataset schema, and serialises
// a dictionary to a compact versioned binary form.
//
// It is a leaf package (it imports nothing of this module) and builds for
// GOOS=js GOARCH=wasm. It works on runes the caller has already normalised
// (full-width → half-width, Latin lower-case, ...): the builder applies the
// caller's normaliser to every term, and the caller applies the same one to
// the text.
//
// # Canonical types
//
// Medical (untyped), Disease, Symptom, Drug, Check (an examination not known
// to be a lab test or imaging), LabTest, Imaging, Procedure (operations and
// other procedures), Treatment (non-surgical), Body, Department, Food, TCM,
// Microbe, Equipment. Their numbers are fixed (they are in the
// serialisation and the feature ids).
//
// The combined list's types map as: DISEASE, DISEASE_GROUP → Disease;
// SYMPTOM → Symptom; DRUG, DRUG_PRODUCT → Drug; EXAM → Check; PROCEDURE →
// Procedure; BODY → Body; FOOD → Food; DEPARTMENT → Department; MIXED_TCM →
// TCM; BODY_ACUPOINT → TCM (acupoint names such as 水分, 大都, 通里 collide
// with ordinary words, so they are kept out of Body); MIXED_MEDICAL →
// Medical.
//
// Untyped (Medical) terms take part in matching and produce features
// (B-Medical, I-Medical): they mark medical word boundaries and the tagger
// learns how much to trust them. Every schema maps Medical (and Food, TCM)
// to no label, so a dictionary-only tagger ignores them.
//
// # Schemas
//
// [Schema] maps canonical types to each dataset's labels (for a
// dictionary-only tagger; types not listed get no label) and labels back to
// canonical types (for adding training annotations with [Builder.Add]):
//
//	ccks2017  Body→身体部位; Check, LabTest, Imaging→检查和检验; Symptom→症状和体征;
//	          Disease→疾病和诊断; Drug, Procedure, Treatment→治疗.
//	          Back: 检查和检验→Check, 治疗→Treatment, the others as above.
//	yidu      Body→解剖部位; Disease→疾病和诊断; Drug→药物; LabTest→实验室检验;
//	          Imaging→影像检查; Procedure→手术; Check→影像检查 if LooksLikeImaging
//	          else 实验室检验. Back: one to one (实验室检验→LabTest, 影像检查→Imaging).
//	cehrner   as yidu, plus Symptom↔症状 (the cEHRNER labels of ChineseBLUE).
//	ccks2018  Body→AnatomicSite; Symptom→IndependentSymptoms; Procedure→Operation;
//	          Drug→Medicine. Back: SymptomsDescribed→Symptom too.
//	cmeee     Disease→dis; Symptom→sym; Procedure, Treatment, Imaging→pro;
//	          LabTest→ite; Check→pro if LooksLikeImaging else ite; Equipment→equ;
//	          Drug→dru; Body→bod; Department→dep; Microbe→mic.
//	          Back: pro→Procedure, ite→LabTest, the others one to one.
//	cmedqaner Body→body; Department→department; Disease→disease; Drug→drug;
//	          Symptom→symptom; Check, LabTest, Imaging→test; Procedure,
//	          Treatment→treatment. Back: test→Check, treatment→Treatment;
//	          crowd, feature, physiology, time have no canonical type.
//
// Medical, Food and TCM get no label in any schema.
//
// # Terms
//
// A term is trimmed, normalised by the caller's hook, and kept only if it is
// valid UTF-8 of MinTermRunes (2) to MaxTermRunes (32) runes with at least
// one letter (Han characters are letters): single characters are mostly
// noise in the lists and would make common characters matches, and
// letterless items ("29", "4:1" listed as drugs) would match numbers. Such
// terms count as Dropped in load reports. Loaders skip malformed rows, count them and report the first
// ones with file and line (see [LoadReport]).
//
// # Priority of a term's types
//
// A term may have several (type, source) entries. They are ordered, and the
// first one's type is the type of every match of the term:
//
//  1. entries from training annotations ([Builder.Add]) before list entries;
//  2. among annotation entries, the one added more often first;
//  3. then by type: LabTest, Imaging, Symptom, Disease, Body, Check,
//     Procedure, Treatment, Microbe, Equipment, Department, Drug, Food, TCM,
//     Medical (the lists' drug list also holds many diseases and body parts,
//     and the symptom list is more specific than the disease list, which
//     holds many symptoms);
//  4. then by source name.
//
// # Leakage
//
// The default build ([Builder.LoadDefault]) reads only combined_typed_lexicon.
// The ChineseBLUE list is opt-in: its cEHRNER terms come from the
// CCKS2019/Yidu-S4K training texts, which include the documents of the
// yidu-train-dev dev split, so a dictionary with it must never be used for
// yidu-train-dev scores. Training annotations added with [Builder.Add] must
// come from the protocol's training split only.
//
// # Bidirectional maximum matching
//
// Forward maximum matching (FMM) scans left to right taking the longest
// dictionary term that starts at the current rune, else one single rune;
// backward maximum matching (BMM) scans right to left taking the longest
// term that ends there. Both are segmentations of the whole input into
// dictionary words and single runes.
//
// BiMM compares them chunk by chunk: the text is cut at every position that
// is a segment boundary in both segmentations, and within each maximal chunk
// where they differ it keeps the segmentation that has
//
//  1. more dictionary words; on a tie
//  2. fewer single runes (runes in no word); on a tie
//  3. the longer longest word; on a tie
//  4. the backward one.
//
// (Within a chunk both segmentations cover the same runes, so 1 and 2 also
// fix the number of segments and the total word length; rule 3 is the
// remaining sense of "longer words".) Per-chunk choice makes the result for
// one ambiguity independent of unrelated text elsewhere in the sentence; on
// a sentence with a single ambiguous stretch it is the paper's whole-input
// comparison.
//
// # Features
//
// [Dictionary.AppendFeatures] labels each rune of the BiMM segmentation: a
// word of type T gives B-T on its first rune and I-T on the rest; runes in
// no word get O. Feature ids are 0 for O and 2t-1 / 2t for B-/I- of type t
// ([FeatureLabels]).
//
// # Trie
//
// The trie is a double array over dense rune codes (8 bytes per slot, values
// stored in the slots themselves). Matching walks it once from every rune
// position to get, in one pass, the longest term starting and ending at each
// position, from which FMM and BMM follow without further lookups.
package lexicon
