// Package corpus holds the one document model every part of bingli shares, and the readers,
// writers and fixed evaluation splits for the Chinese clinical NER datasets in DATA.md.
//
// Offsets are Unicode code points (runes) into Document.Text, end exclusive, everywhere.
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
