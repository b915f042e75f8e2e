// Package eval scores named-entity predictions against gold annotations with the strict
// entity-level metric of bingli's evaluation protocols (see DATA.md), breaks the errors down
// by kind, and reports the result as a fixed-width text table or as JSON.
//
// # Metric
//
// Entities are compared by rune offsets (start, end exclusive) and type. Within one document
// the gold entities and the predicted entities are each treated as a set: an entity listed
// twice counts once, on either side. A prediction is a true positive (TP) if and only if a
// gold entity of the same document has exactly the same start, end and type; there is no
// partial credit. Unmatched predictions are false positives (FP), unmatched gold entities
// false negatives (FN).
//
// Micro scores sum TP, FP and FN over all documents and types:
//
//	precision P = TP / (TP + FP)   (0 when there are no predictions)
//	recall    R = TP / (TP + FN)   (0 when there is no gold)
//	F1          = 2PR / (P + R)    (0 when P + R = 0)
//
// Per-type scores apply the same formulas to the entities of one type: precision counts the
// predictions of that type, recall the gold entities of that type. Macro precision, recall
// and F1 are the unweighted means of the per-type precision, recall and F1 over the types
// that occur in the gold data (macro F1 is the mean of per-type F1, not the F1 of macro P and
// R); types found only in predictions count in the micro scores and get a row of their own,
// but do not enter the macro means. With no gold types all macro values are 0.
//
// # Error breakdown
//
// Every unmatched entity, gold or predicted, is classified once into exactly one kind, by
// comparing it with the unmatched entities of the other side of the same document.
// Predictions that matched some gold entity exactly are consumed by that match and never
// explain another entity's error (a nested gold entity inside a correct prediction, with no
// unmatched prediction overlapping it, is missed). Two spans overlap when they share at
// least one rune. Of all candidates on the other side, the best one decides, with priority
// in this order:
//
//  1. type error: a candidate has the same start and end (its type necessarily differs);
//  2. boundary error: a candidate overlaps with different boundaries and the same type;
//  3. boundary+type error: a candidate overlaps with different boundaries and another type;
//  4. otherwise the entity overlaps no unmatched entity of the other side: a gold entity is
//     missed, a prediction is spurious.
//
// The first three kinds are counted separately for each side ([Breakdown] fields ending in
// Gold and Pred), because overlaps can be one-to-many: one gold entity split into two
// predictions of its type is one boundary error on the gold side and two on the prediction
// side. In the common one-to-one case the two sides agree. By construction
//
//	TypeGold + BoundaryGold + BoundaryTypeGold + Missed   = FN
//	TypePred + BoundaryPred + BoundaryTypePred + Spurious = FP
//
// both in total and per type, where an entity is counted under its own type (a gold 症状和体征
// predicted as 疾病和诊断 is a gold-side type error of 症状和体征 and a prediction-side type
// error of 疾病和诊断).
//
// # Use
//
// [Score] pairs gold and predicted documents by ID; a [Scorer] accepts one document's
// entities at a time. Set [Result.Protocol] and [Result.Split] to name the evaluation
// protocol (for example "ccks2017-split5", "test"): [Result.WriteTable] prints them in its
// header, and JSON output carries them.
package eval
