// Package corpus holds the one document model every part of bingli shares, and the readers,
// writers, fixed evaluation splits and statistics for the Chinese clinical NER datasets of
// DATA.md.
//
// # Offsets
//
// Offsets are Unicode code points (runes) into Document.Text, end exclusive, everywhere:
// in every reader's output, in our JSON lines, and in BRAT files (BRAT's "character
// offsets" are code points too). Readers return entities sorted by SortEntities (start,
// then longer first, then type) with no exact duplicates, each inside its text with
// start < end and a non-empty type.
//
// # Reports
//
// No reader drops or changes anything silently. Each Dataset carries a Report: one Problem
// (file, 1-based line, document, Kind, detail, action) for every entity or line refused or
// changed, plus findings that change nothing, and counts per Kind. Action is "fixed: <rule>",
// "refused: <why>" or "kept: <why>". Errors are returned only when input cannot be read
// at all (a missing file or directory, an I/O error) and name the file (and line).
//
// # Fix rules (dataset readers)
//
// Entities go through these rules in order; JSON lines (our own format) get only the exact
// checks, marked "strict".
//
//  1. No type: refused. Any offset below 0 or past the text: refused (out-of-range).
//  2. Inclusive ends (CCKS2017, CMeEE) become exclusive (+1) first. start == end is an
//     empty span: refused. Both CMeEE cases with start > end are of this kind (16 15, 15
//     14): the mention is missing from the text, and the swapped spans ("及；", "可从") are
//     not entities, so no swap is tried there.
//  3. start > end otherwise (reversed-span): swapped, but only when the format gives the
//     mention text and the swapped span's text equals it; else refused (strict: refused).
//  4. Mention text given (CCKS2017, cMedQANER, JSON lines "text") and different from the
//     text at the offsets: (a) if both, trimmed of surrounding whitespace, are equal, the
//     span becomes the trimmed one (whitespace-edge, fixed); (b) if they are equal ignoring
//     letter case the span is kept (case-mismatch, kept: cMedQANER texts were lower-cased,
//     mentions not); (c) if the mention occurs exactly at start±1 or start±2 (nearest
//     first, the earlier on a tie), the span moves there (shifted-offset, fixed); (d) else
//     refused (mention-mismatch). Strict: any difference is refused.
//  5. A span that starts or ends with whitespace (unicode.IsSpace, so also U+3000 and
//     U+00A0) is trimmed (whitespace-edge, fixed); a span of whitespace only is refused.
//     Not in strict mode.
//  6. An entity equal in start, end and type to one already kept: refused (duplicate-entity).
//
// Lines: a UTF-8 BOM at the start of a file is dropped; a line ends at LF, and one CR
// before it is dropped too (CRLF); blank lines are skipped (in BIO they end a document).
// Invalid UTF-8 is repaired by replacing each bad byte with U+FFFD (one rune per byte, so
// later offsets still count as a []rune conversion would) and reported. A line that cannot
// be parsed is reported and refused. Lines may be of any length.
//
// Documents with identical non-empty texts are reported (duplicate-text) and both kept,
// so counts match the official ones.
//
// # Formats
//
// ccks2017 (ReadCCKS2017, ParseCCKS2017Pair): Train/<section>/<section>-N.txtoriginal.txt
// texts with <section>-N.txt annotations "mention\tstart\tend\ttype", 0-based, end
// inclusive, UTF-8 with CRLF. The text's CRLF become LF before offsets are used (in the
// real Train data CRLF only ends texts, so this changes no offsets there; Test texts have
// inner CRLF). One Document per section file, ID "<section>-N", ordered by N then section
// name. Empty annotation files are valid (32 real ones: short texts without entities). A
// text without annotation file is kept unlabeled (missing-annotation); an annotation file
// without text, or any other file, is ignored (unexpected-file); a section lacking a
// document number the others have is reported (missing-section: the real data lacks
// 出院情况-191, 诊疗经过-191 and, in Test, 出院情况-361, 诊疗经过-361, so there are 1,198
// train and 398 test section files, not 1,200 and 400). All 29,866 mentions match their
// text; one (一般项目-248, " 右下腹痛") starts with a space and is trimmed by rule 5.
// ReadCCKS2017Unlabeled reads the Test layout the same way without annotations.
//
// yidu (ReadYidu, ParseYidu): JSON lines {"originalText", "entities": [{"start_pos",
// "end_pos" (exclusive), "label_type"}]} (an "overlap" field is ignored; integer offsets
// may also be strings). Both files start with a BOM; part2 has CRLF line ends and a
// blank last line. originalText itself holds no CR or LF (checked), and offsets are code
// points (no text has characters beyond the BMP, so UTF-16 units agree; none is out of
// range). 87 spans start or end with a space (" 胃体", "替吉奥 "): trimmed by rule 5, so
// the entity count (17,653) is unchanged. part1-338 and part2-206 have the same text
// (with 7 and 8 entities): reported, both kept. IDs "yidu-part1-<i>", "yidu-part2-<i>".
//
// ccks2018 (ReadCCKS2018) and any char BIO/CoNLL file (ParseBIO, ReadBIO): one "char tag"
// per line, split at the LAST ASCII space or tab (the char may be U+3000, U+00A0 or an
// ASCII space), a blank line between sentences. Tags O and PREFIX-type with "-" or "_"
// (B_disease), prefixes B, I and BIOES S, E, M. A malformed sequence is repaired: an I-, M-
// or E- tag after O, or after an entity of another type, starts a new entity (bio-repair;
// 6 in CCKS2018 train.txt, all I- after O); a tag that cannot be parsed reads as O
// (bad-tag); a token of several runes spreads its tag over them (B→B I…, I/M→I…, E→I… E,
// S→B I… E, O→O…). IDs "ccks2018-<i>" (i: sentence index, 1-based).
//
// cmeee (ReadCMeEE, ParseCMeEE): lines "text|||start end type|||...|||", the three fields
// separated by runs of whitespace (four spaces in the data), 0-based, end inclusive,
// entities nested, CRLF. A line without "|||" is an unlabeled text. IDs "cmeee-<line>".
//
// cmedqaner (ReadCMedQANER, ParseCMedQANERJSON): <split>.json lines {"text",
// "mention_data": [{"mention", "type" or "label", "offset"}]}, offset a string (13 are
// numbers; both accepted), end = offset + mention length. The JSON is authoritative: it
// gives the mention text and keeps nested entities, which <split>.txt (char BIO, B_type)
// cannot. When the .txt twin is beside it the two are cross-checked: a BIO document that
// holds a subset of the JSON entities, missing only ones overlapping an entity it holds, agrees;
// any other difference is reported (cross-check, kept). Real data: 75 lower-cased
// mentions (case-mismatch) and one document (train 367) whose 15 offsets are all one too
// large (shifted-offset) — the BIO twin repeats the wrong spans, which is its one
// cross-check report. IDs "cmedqaner-<split>-<i>".
//
// jsonl (ReadJSONL, ParseJSONL, WriteJSONL): ours, one Document per line {"id", "text",
// "entities": [{"start", "end", "type"}]}. Also the tagger's output lines, without "text"
// and with entity "text" and "confidence" (dropped); strict checks only.
//
// # Writers
//
// WriteJSONL (sorted entities), WriteBIO (char, space, B-/I-/O tag, blank line after each
// document; line-break runes written as a space so offsets survive), WriteBRAT and
// WriteBRATDir (.txt plus .ann lines "T<k>\t<type> <start> <end>\t<mention>"). ToBIO keeps
// the outermost of nested or overlapping entities (longest first; ties: earlier start,
// then type name) and returns how many it dropped; FromBIO decodes tags with the repair
// rules above.
//
// # Splits
//
// Split implements DATA.md's protocols exactly: ccks2017-split5 (test N % 5 == 0, dev
// N % 10 == 1, train the rest, N from the ID) and yidu-train-dev (train part1 and part2
// 1..500, dev part2 501..600).
package corpus

// Entity is one annotated mention: the runes Text[Start:End] of its document, of a schema's Type.
type Entity struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Type  string `json:"type"`
}

// Document is one text with its (possibly nested or overlapping) entities.
type Document struct {
	ID       string   `json:"id"`
	Text     string   `json:"text"`
	Entities []Entity `json:"entities,omitempty"`
}
