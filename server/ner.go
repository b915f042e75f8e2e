package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/bingli/bingli/core/pipeline"
)

// nerRequest is the body of POST /v1/ner.
type nerRequest struct {
	Documents []document
	Model     string
}

// document is one input document; ID is a JSON string or number, echoed back as given.
type document struct {
	ID   json.RawMessage `json:"id"`
	Text string          `json:"text"`
}

// docResult is one document's result, the `bingli tag` JSON-lines shape plus an error.
type docResult struct {
	ID       json.RawMessage   `json:"id"`
	Entities []pipeline.Entity `json:"entities"`
	Error    string            `json:"error,omitempty"`
}

type nerResponse struct {
	Model     string      `json:"model"`
	Schema    string      `json:"schema"`
	Documents []docResult `json:"documents"`
}

// decodeNER strictly decodes a /v1/ner body: unknown fields, wrong types, missing ids or
// texts, trailing data and over-long documents are errors naming the field.
func decodeNER(r io.Reader, maxDocs, maxChars int) (*nerRequest, error) {
	var top struct {
		Documents []json.RawMessage `json:"documents"`
		Model     *string           `json:"model"`
	}
	if err := decodeStrict(r, &top, ""); err != nil {
		return nil, err
	}
	docs, err := decodeDocuments(top.Documents, maxDocs, maxChars)
	if err != nil {
		return nil, err
	}
	req := &nerRequest{Documents: docs}
	if top.Model != nil {
		req.Model = *top.Model
	}
	return req, nil
}

// decodeDocuments checks and decodes the "documents" array of a request.
func decodeDocuments(raws []json.RawMessage, maxDocs, maxChars int) ([]document, error) {
	if raws == nil {
		return nil, apiError(400, "bad_request", "documents", `missing "documents"`)
	}
	if len(raws) == 0 {
		return nil, apiError(400, "bad_request", "documents", `"documents" is empty`)
	}
	if len(raws) > maxDocs {
		return nil, apiError(413, "too_large", "documents",
			fmt.Sprintf("%d documents, at most %d per request (use /v1/jobs for bulk work)", len(raws), maxDocs))
	}
	docs := make([]document, len(raws))
	for i, raw := range raws {
		d, err := decodeDocument(raw, fmt.Sprintf("documents[%d]", i), true, maxChars)
		if err != nil {
			return nil, err
		}
		docs[i] = d
	}
	return docs, nil
}

// decodeDocument decodes {"id", "text"}; strict refuses other fields. where prefixes field
// names in errors.
func decodeDocument(raw []byte, where string, strict bool, maxChars int) (document, error) {
	var d struct {
		ID   json.RawMessage `json:"id"`
		Text *string         `json:"text"`
	}
	var err error
	if strict {
		err = decodeStrict(bytes.NewReader(raw), &d, where)
	} else {
		err = decodeLoose(raw, &d, where)
	}
	if err != nil {
		return document{}, err
	}
	if len(d.ID) == 0 || string(d.ID) == "null" {
		return document{}, apiError(400, "bad_request", where+".id", `missing "id"`)
	}
	if c := d.ID[0]; c != '"' && c != '-' && (c < '0' || c > '9') {
		return document{}, apiError(400, "bad_request", where+".id", `"id" must be a string or a number`)
	}
	if d.Text == nil {
		return document{}, apiError(400, "bad_request", where+".text", `missing "text"`)
	}
	if n := utf8.RuneCountInString(*d.Text); n > maxChars {
		return document{}, apiError(413, "too_large", where+".text",
			fmt.Sprintf("text has %d characters, at most %d per document", n, maxChars))
	}
	return document{ID: d.ID, Text: *d.Text}, nil
}

// decodeStrict decodes exactly one JSON value from r into v, refusing unknown fields and
// trailing data.
func decodeStrict(r io.Reader, v any, where string) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, where)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err, where)
		}
		return apiError(400, "bad_request", where, "unexpected data after the JSON value")
	}
	return nil
}

func decodeLoose(raw []byte, v any, where string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return jsonError(err, where)
	}
	return nil
}

// jsonError turns a decoding error into a 4xx naming the field where it can.
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
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return apiError(413, "too_large", "", fmt.Sprintf("request body larger than %d bytes", mbe.Limit))
	case errors.Is(err, io.EOF):
		return apiError(400, "bad_request", where, "empty body: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apiError(400, "bad_request", where, "truncated JSON")
	case errors.As(err, &se):
		return apiError(400, "bad_request", where, fmt.Sprintf("invalid JSON at byte %d", se.Offset))
	case errors.As(err, &te):
		want := te.Type.Kind().String()
		switch te.Type.Kind().String() {
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

func (s *Server) handleNER(c echo.Context) error {
	r := c.Request()
	if r.ContentLength > s.cfg.MaxBody {
		return apiError(413, "too_large", "", fmt.Sprintf("request body larger than %d bytes", s.cfg.MaxBody))
	}
	body := http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxBody)
	req, err := decodeNER(body, s.cfg.MaxDocs, s.cfg.MaxDocChars)
	if err != nil {
		return err
	}
	if req.Model != "" && req.Model != s.cfg.Model.Name {
		return apiError(400, "bad_request", "model", fmt.Sprintf("unknown model %q (see GET /v1/models)", req.Model))
	}
	texts := make([]string, len(req.Documents))
	for i, d := range req.Documents {
		texts[i] = d.Text
	}
	res, err := s.batcher.tag(r.Context(), texts)
	if err != nil {
		if r.Context().Err() != nil {
			return apiError(499, "canceled", "", "request canceled")
		}
		return fmt.Errorf("tagging: %w", err)
	}
	out := nerResponse{Model: s.cfg.Model.Name, Schema: s.cfg.Model.Tagger.Schema(), Documents: make([]docResult, len(res))}
	for i, dr := range res {
		out.Documents[i] = newDocResult(req.Documents[i].ID, dr)
	}
	return writeJSON(c, 200, out)
}

func newDocResult(id json.RawMessage, r tagResult) docResult {
	d := docResult{ID: id, Entities: r.entities}
	if r.err != nil {
		d.Error = r.err.Error()
	}
	if d.Entities == nil {
		d.Entities = []pipeline.Entity{}
	}
	return d
}

// writeJSON writes v without HTML escaping, as `bingli tag` does.
func writeJSON(c echo.Context, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding response: %w", err)
	}
	return c.Blob(status, echo.MIMEApplicationJSON, buf.Bytes())
}
