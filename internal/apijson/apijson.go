// Package apijson is the JSON contract shared by the two implementations of the HTTP API, the
// server (package server, echo) and the Cloudflare Worker (worker/api): the error shape and
// the strict decoders of /v1/ner and /v1/deid bodies and of job input lines, so that both
// accept and reject the same requests and name the same bad field. It is pure Go and builds
// for GOOS=js GOARCH=wasm.
package apijson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/bingli/bingli/core/deid"
)

// Error is an API error with its HTTP status; Field names the bad request field (e.g.
// "documents[2].text") when there is one. It marshals as the body's "error" object.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// NewError returns an *Error.
func NewError(status int, code, field, msg string) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: msg}
}

// Document is one input document; ID is a JSON string or number, echoed back as given.
type Document struct {
	ID   json.RawMessage `json:"id"`
	Text string          `json:"text"`
}

// Limits bound a request.
type Limits struct {
	MaxDocs     int    // documents per request
	MaxDocChars int    // characters per document
	TooManyHint string // appended to the too-many-documents message, e.g. "use /v1/jobs"
}

// NERRequest is a decoded /v1/ner body.
type NERRequest struct {
	Documents []Document
	Model     string
}

// DeidRequest is a decoded /v1/deid body.
type DeidRequest struct {
	Documents []Document
	Mode      deid.Mode
	Seed      uint64
}

// DecodeNER strictly decodes a /v1/ner body {"documents", "model"?}: unknown fields, wrong
// types, missing ids or texts, trailing data and over-long documents are errors naming the
// field.
func DecodeNER(r io.Reader, lim Limits) (*NERRequest, error) {
	var top struct {
		Documents []json.RawMessage `json:"documents"`
		Model     *string           `json:"model"`
	}
	if err := DecodeStrict(r, &top, ""); err != nil {
		return nil, err
	}
	docs, err := decodeDocuments(top.Documents, lim)
	if err != nil {
		return nil, err
	}
	req := &NERRequest{Documents: docs}
	if top.Model != nil {
		req.Model = *top.Model
	}
	return req, nil
}

// DecodeDeid strictly decodes a /v1/deid body {"documents", "mode"?, "seed"?}; mode defaults
// to "tag" and seed to 1.
func DecodeDeid(r io.Reader, lim Limits) (*DeidRequest, error) {
	var top struct {
		Documents []json.RawMessage `json:"documents"`
		Mode      *string           `json:"mode"`
		Seed      *uint64           `json:"seed"`
	}
	if err := DecodeStrict(r, &top, ""); err != nil {
		return nil, err
	}
	docs, err := decodeDocuments(top.Documents, lim)
	if err != nil {
		return nil, err
	}
	req := &DeidRequest{Documents: docs, Mode: deid.ModeTag, Seed: 1}
	if top.Mode != nil {
		if req.Mode, err = deid.ParseMode(*top.Mode); err != nil {
			return nil, NewError(400, "bad_request", "mode", `"mode" must be tag, surrogate or mask`)
		}
	}
	if top.Seed != nil {
		req.Seed = *top.Seed
	}
	return req, nil
}

// decodeDocuments checks and decodes the "documents" array of a request.
func decodeDocuments(raws []json.RawMessage, lim Limits) ([]Document, error) {
	switch {
	case raws == nil:
		return nil, NewError(400, "bad_request", "documents", `missing "documents"`)
	case len(raws) == 0:
		return nil, NewError(400, "bad_request", "documents", `"documents" is empty`)
	case len(raws) > lim.MaxDocs:
		msg := fmt.Sprintf("%d documents, at most %d per request", len(raws), lim.MaxDocs)
		if lim.TooManyHint != "" {
			msg += " (" + lim.TooManyHint + ")"
		}
		return nil, NewError(413, "too_large", "documents", msg)
	}
	docs := make([]Document, len(raws))
	for i, raw := range raws {
		d, err := DecodeDocument(raw, fmt.Sprintf("documents[%d]", i), true, lim.MaxDocChars)
		if err != nil {
			return nil, err
		}
		docs[i] = d
	}
	return docs, nil
}

// DecodeDocument decodes {"id", "text"}; strict refuses other fields (a job input line may
// carry more). where prefixes field names in errors.
func DecodeDocument(raw []byte, where string, strict bool, maxChars int) (Document, error) {
	var d struct {
		ID   json.RawMessage `json:"id"`
		Text *string         `json:"text"`
	}
	var err error
	if strict {
		err = DecodeStrict(bytes.NewReader(raw), &d, where)
	} else if err = json.Unmarshal(raw, &d); err != nil {
		err = JSONError(err, where)
	}
	if err != nil {
		return Document{}, err
	}
	if len(d.ID) == 0 || string(d.ID) == "null" {
		return Document{}, NewError(400, "bad_request", where+".id", `missing "id"`)
	}
	if c := d.ID[0]; c != '"' && c != '-' && (c < '0' || c > '9') {
		return Document{}, NewError(400, "bad_request", where+".id", `"id" must be a string or a number`)
	}
	if d.Text == nil {
		return Document{}, NewError(400, "bad_request", where+".text", `missing "text"`)
	}
	if n := utf8.RuneCountInString(*d.Text); n > maxChars {
		return Document{}, NewError(413, "too_large", where+".text",
			fmt.Sprintf("text has %d characters, at most %d per document", n, maxChars))
	}
	return Document{ID: d.ID, Text: *d.Text}, nil
}

// DecodeStrict decodes exactly one JSON value from r into v, refusing unknown fields and
// trailing data; where prefixes field names in errors.
func DecodeStrict(r io.Reader, v any, where string) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return JSONError(err, where)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return JSONError(err, where)
		}
		return NewError(400, "bad_request", where, "unexpected data after the JSON value")
	}
	return nil
}

// JSONError turns a decoding error into a 4xx *Error naming the field where it can (a body
// over an http.MaxBytesReader limit is a 413).
func JSONError(err error, where string) error {
	join := func(f string) string {
		switch {
		case where == "":
			return f
		case f == "":
			return where
		}
		return where + "." + f
	}
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return NewError(413, "too_large", "", fmt.Sprintf("request body larger than %d bytes", mbe.Limit))
	case errors.Is(err, io.EOF):
		return NewError(400, "bad_request", where, "empty body: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return NewError(400, "bad_request", where, "truncated JSON")
	case errors.As(err, &se):
		return NewError(400, "bad_request", where, fmt.Sprintf("invalid JSON at byte %d", se.Offset))
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
		return NewError(400, "bad_request", join(te.Field), fmt.Sprintf("want %s, got %s", want, te.Value))
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f := strings.Trim(name, `"`)
		return NewError(400, "bad_request", join(f), fmt.Sprintf("unknown field %q", f))
	}
	return NewError(400, "bad_request", where, "invalid JSON")
}
