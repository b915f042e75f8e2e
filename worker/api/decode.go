package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/bingli/bingli/core/deid"
)

// DecodeNER strictly decodes a /v1/ner body {"documents": [...], "model"?}.
func DecodeNER(body []byte, lim Limits) (docs []Document, model string, err error) {
	var top struct {
		Documents []json.RawMessage `json:"documents"`
		Model     *string           `json:"model"`
	}
	if err := decodeStrict(body, &top, ""); err != nil {
		return nil, "", err
	}
	if docs, err = decodeDocuments(top.Documents, lim); err != nil {
		return nil, "", err
	}
	if top.Model != nil {
		model = *top.Model
	}
	return docs, model, nil
}

// DeidRequest is a decoded /v1/deid body.
type DeidRequest struct {
	Documents []Document
	Mode      deid.Mode
	Seed      uint64
}

// DecodeDeid strictly decodes a /v1/deid body {"documents", "mode"?, "seed"?}; mode
// defaults to "tag" and seed to 1, as on the server.
func DecodeDeid(body []byte, lim Limits) (*DeidRequest, error) {
	var top struct {
		Documents []json.RawMessage `json:"documents"`
		Mode      *string           `json:"mode"`
		Seed      *uint64           `json:"seed"`
	}
	if err := decodeStrict(body, &top, ""); err != nil {
		return nil, err
	}
	docs, err := decodeDocuments(top.Documents, lim)
	if err != nil {
		return nil, err
	}
	req := &DeidRequest{Documents: docs, Mode: deid.ModeTag, Seed: 1}
	if top.Mode != nil {
		if req.Mode, err = deid.ParseMode(*top.Mode); err != nil {
			return nil, apiError(400, "bad_request", "mode", `"mode" must be tag, surrogate or mask`)
		}
	}
	if top.Seed != nil {
		req.Seed = *top.Seed
	}
	return req, nil
}

func decodeDocuments(raws []json.RawMessage, lim Limits) ([]Document, error) {
	switch {
	case raws == nil:
		return nil, apiError(400, "bad_request", "documents", `missing "documents"`)
	case len(raws) == 0:
		return nil, apiError(400, "bad_request", "documents", `"documents" is empty`)
	case len(raws) > lim.MaxDocs:
		return nil, apiError(413, "too_large", "documents", fmt.Sprintf("%d documents, at most %d per request", len(raws), lim.MaxDocs))
	}
	docs := make([]Document, len(raws))
	for i, raw := range raws {
		where := fmt.Sprintf("documents[%d]", i)
		var d struct {
			ID   json.RawMessage `json:"id"`
			Text *string         `json:"text"`
		}
		if err := decodeStrict(raw, &d, where); err != nil {
			return nil, err
		}
		if len(d.ID) == 0 || string(d.ID) == "null" {
			return nil, apiError(400, "bad_request", where+".id", `missing "id"`)
		}
		if c := d.ID[0]; c != '"' && c != '-' && (c < '0' || c > '9') {
			return nil, apiError(400, "bad_request", where+".id", `"id" must be a string or a number`)
		}
		if d.Text == nil {
			return nil, apiError(400, "bad_request", where+".text", `missing "text"`)
		}
		if n := utf8.RuneCountInString(*d.Text); n > lim.MaxDocChars {
			return nil, apiError(413, "too_large", where+".text", fmt.Sprintf("text has %d characters, at most %d per document", n, lim.MaxDocChars))
		}
		docs[i] = Document{ID: d.ID, Text: *d.Text}
	}
	return docs, nil
}

// decodeStrict decodes exactly one JSON value from b into v, refusing unknown fields and
// trailing data; where prefixes field names in errors.
func decodeStrict(b []byte, v any, where string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, where)
	}
	if _, err := dec.Token(); err != io.EOF {
		return apiError(400, "bad_request", where, "unexpected data after the JSON value")
	}
	return nil
}

// jsonError turns a decoding error into a 400 naming the field where it can.
func jsonError(err error, where string) error {
	join := func(f string) string {
		switch {
		case where == "":
			return f
		case f == "":
			return where
		}
		return where + "." + f
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return apiError(400, "bad_request", where, "empty body: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(400, "bad_request", where, "truncated JSON")
	case errors.As(err, &se):
		return apiError(400, "bad_request", where, fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se))
	case errors.As(err, &te):
		want := te.Type.Kind().String()
		switch want {
		case "slice":
			want = "array"
		case "struct", "map":
			want = "object"
		case "ptr":
			want = te.Type.Elem().Kind().String()
		}
		return apiError(400, "bad_request", join(te.Field), fmt.Sprintf("want %s, got %s", want, te.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f := strings.Trim(name, `"`)
		return apiError(400, "bad_request", join(f), fmt.Sprintf("unknown field %q", f))
	}
	return apiError(400, "bad_request", where, "invalid JSON")
}
