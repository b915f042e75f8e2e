package server

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bingli/bingli/core/deid"
	"github.com/bingli/bingli/internal/apijson"
)

type phiSpan struct {
	Start    int           `json:"start"`
	End      int           `json:"end"`
	Category deid.Category `json:"category"`
	Rule     string        `json:"rule"`
	Text     string        `json:"text"`
}

// deidResult is one document's result, the `bingli deid` JSON-lines shape plus an error.
type deidResult struct {
	ID     json.RawMessage `json:"id"`
	PHI    []phiSpan       `json:"phi"`
	Masked string          `json:"masked"`
	Error  string          `json:"error,omitempty"`
}

type deidResponse struct {
	Model     string       `json:"model"`
	Mode      string       `json:"mode"`
	Documents []deidResult `json:"documents"`
}

// handleDeid finds PHI and masks it. The served model tags each document first; its medical
// entities are passed to deid as protected ranges, so a disease is never taken for a name.
// Surrogates are consistent within one document; the seed makes them repeatable.
func (s *Server) handleDeid(c echo.Context) error {
	r := c.Request()
	if r.ContentLength > s.cfg.MaxBody {
		return apiError(413, "too_large", "", fmt.Sprintf("request body larger than %d bytes", s.cfg.MaxBody))
	}
	req, err := apijson.DecodeDeid(http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxBody), s.limits())
	if err != nil {
		return err
	}
	texts := make([]string, len(req.Documents))
	for i, d := range req.Documents {
		texts[i] = d.Text
	}
	tagged, err := s.batcher.tag(r.Context(), texts)
	if err != nil {
		if r.Context().Err() != nil {
			return apiError(499, "canceled", "", "request canceled")
		}
		return fmt.Errorf("tagging: %w", err)
	}
	out := deidResponse{Model: s.cfg.Model.Name, Mode: string(req.Mode), Documents: make([]deidResult, len(texts))}
	for i, txt := range texts {
		res := deidResult{ID: req.Documents[i].ID, PHI: []phiSpan{}}
		if err := deidOne(&res, txt, tagged[i], req); err != nil {
			res.Error = err.Error()
		}
		out.Documents[i] = res
	}
	return writeJSON(c, 200, out)
}

func deidOne(res *deidResult, txt string, tagged tagResult, req *apijson.DeidRequest) error {
	if tagged.err != nil {
		return tagged.err
	}
	var opts deid.Options
	for _, en := range tagged.entities {
		opts.Protected = append(opts.Protected, deid.Range{Start: en.Start, End: en.End})
	}
	spans, err := deid.Detect(txt, opts)
	if err != nil {
		return err
	}
	masked, err := deid.Mask(txt, spans, req.Mode, req.Seed)
	if err != nil {
		return err
	}
	for _, sp := range spans {
		res.PHI = append(res.PHI, phiSpan{Start: sp.Start, End: sp.End, Category: sp.Category, Rule: sp.Rule, Text: sp.Text})
	}
	res.Masked = masked
	return nil
}
