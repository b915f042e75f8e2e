package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/internal/apijson"
)

// document is one input document (the shared API contract's).
type document = apijson.Document

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

func (s *Server) handleNER(c echo.Context) error {
	r := c.Request()
	if r.ContentLength > s.cfg.MaxBody {
		return apiError(413, "too_large", "", fmt.Sprintf("request body larger than %d bytes", s.cfg.MaxBody))
	}
	body := http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxBody)
	req, err := apijson.DecodeNER(body, s.limits())
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
