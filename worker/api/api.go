// Package api is the HTTP handler of bingli's Cloudflare Worker: POST /v1/ner and POST
// /v1/deid with the same JSON contract as the server's routes of the same names (see
// server/openapi.json), plus GET /v1/models and GET /healthz. It is plain net/http, so it
// runs and is tested natively; worker/main.go serves it from WebAssembly through
// github.com/syumai/workers.
//
// Requests are decoded strictly: the body must be valid UTF-8 (checked before parsing,
// because encoding/json would silently turn bad bytes into U+FFFD), at most Limits.MaxBody
// bytes, exactly one JSON object with no unknown fields and nothing after it. Every error
// is {"error": {"code", "message", "field"?}} with a 4xx status: 400 bad_request (bad JSON,
// bad UTF-8, a wrong type or a missing field, naming the field), 404 not_found, 405
// method_not_allowed (with Allow) and 413 too_large (body, document count or document
// length, naming the field). Like the server, the Content-Type is not checked (curl -d sends
// a form type).
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"unicode/utf8"

	"github.com/bingli/bingli/core/deid"
	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/internal/apijson"
)

// Limits bound a request. Zero fields take the defaults of DefaultLimits.
type Limits struct {
	MaxBody     int64 // request body bytes
	MaxDocs     int   // documents per request
	MaxDocChars int   // code points per document
}

// DefaultLimits are smaller than the server's (8 MiB, 1,024 documents): a Worker handles
// one request per WebAssembly instance with a bounded CPU time.
var DefaultLimits = Limits{MaxBody: 1 << 20, MaxDocs: 256, MaxDocChars: 100_000}

// Handler serves the API with one tagger.
type Handler struct {
	model string
	lim   Limits

	once    sync.Once
	load    func() (pipeline.Tagger, error)
	tagger  pipeline.Tagger
	loadErr error
}

// New returns the handler; model is the name reported in responses (e.g. "ccks2017-lite").
func New(model string, tg pipeline.Tagger, lim Limits) *Handler {
	return NewLazy(model, func() (pipeline.Tagger, error) { return tg, nil }, lim)
}

// NewLazy is New with the tagger loaded by load on the first request that needs it, so a
// request refused for bad input (or a health check) never pays for loading the model. A
// load error is a 500 on every such request.
func NewLazy(model string, load func() (pipeline.Tagger, error), lim Limits) *Handler {
	if lim.MaxBody <= 0 {
		lim.MaxBody = DefaultLimits.MaxBody
	}
	if lim.MaxDocs <= 0 {
		lim.MaxDocs = DefaultLimits.MaxDocs
	}
	if lim.MaxDocChars <= 0 {
		lim.MaxDocChars = DefaultLimits.MaxDocChars
	}
	return &Handler{model: model, load: load, lim: lim}
}

// getTagger loads the tagger once.
func (h *Handler) getTagger() (pipeline.Tagger, error) {
	h.once.Do(func() {
		h.tagger, h.loadErr = h.load()
		if h.loadErr == nil && h.tagger == nil {
			h.loadErr = errors.New("no tagger")
		}
	})
	return h.tagger, h.loadErr
}

// Error, Document and DeidRequest are the API contract shared with the server
// (internal/apijson), so the Worker decodes and refuses requests exactly as `bingli serve`.
type (
	Error       = apijson.Error
	Document    = apijson.Document
	DeidRequest = apijson.DeidRequest
)

func apiError(status int, code, field, msg string) *Error {
	return apijson.NewError(status, code, field, msg)
}

// contract returns the limits the shared decoders check.
func (l Limits) contract() apijson.Limits {
	return apijson.Limits{MaxDocs: l.MaxDocs, MaxDocChars: l.MaxDocChars}
}

// NERResult is one document's result of /v1/ner, the `bingli tag` JSON-lines shape.
type NERResult struct {
	ID       json.RawMessage   `json:"id"`
	Entities []pipeline.Entity `json:"entities"`
	Error    string            `json:"error,omitempty"`
}

// NERResponse is the body of a successful /v1/ner.
type NERResponse struct {
	Model     string      `json:"model"`
	Schema    string      `json:"schema"`
	Documents []NERResult `json:"documents"`
}

// PHI is one detection of /v1/deid.
type PHI struct {
	Start    int           `json:"start"`
	End      int           `json:"end"`
	Category deid.Category `json:"category"`
	Rule     string        `json:"rule"`
	Text     string        `json:"text"`
}

// DeidResult is one document's result of /v1/deid, the `bingli deid` JSON-lines shape.
type DeidResult struct {
	ID     json.RawMessage `json:"id"`
	PHI    []PHI           `json:"phi"`
	Masked string          `json:"masked"`
	Error  string          `json:"error,omitempty"`
}

// DeidResponse is the body of a successful /v1/deid.
type DeidResponse struct {
	Model     string       `json:"model"`
	Mode      string       `json:"mode"`
	Documents []DeidResult `json:"documents"`
}

// ServeHTTP routes a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var err error
	switch r.URL.Path {
	case "/v1/ner":
		err = h.only(w, r, http.MethodPost, h.ner)
	case "/v1/deid":
		err = h.only(w, r, http.MethodPost, h.deid)
	case "/v1/models":
		err = h.only(w, r, http.MethodGet, h.models)
	case "/healthz":
		err = h.only(w, r, http.MethodGet, func(w http.ResponseWriter, _ *http.Request) error {
			return writeJSON(w, 200, map[string]string{"status": "ok"})
		})
	default:
		err = apiError(404, "not_found", "", fmt.Sprintf("no route %s (try POST /v1/ner or POST /v1/deid)", r.URL.Path))
	}
	if err != nil {
		writeError(w, err)
	}
}

func (h *Handler) only(w http.ResponseWriter, r *http.Request, method string, f func(http.ResponseWriter, *http.Request) error) error {
	if r.Method != method {
		w.Header().Set("Allow", method)
		return apiError(405, "method_not_allowed", "", fmt.Sprintf("%s %s: use %s", r.Method, r.URL.Path, method))
	}
	return f(w, r)
}

func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		// Internal errors (a model that fails to load) carry no request data.
		e = apiError(500, "internal", "", err.Error())
	}
	_ = writeJSON(w, e.Status, struct {
		Error *Error `json:"error"`
	}{e})
}

// writeJSON writes v without HTML escaping, as `bingli tag` does.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encoding response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

func (h *Handler) models(w http.ResponseWriter, _ *http.Request) error {
	tg, err := h.getTagger()
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"models": []map[string]string{{"name": h.model, "schema": tg.Schema(), "backend": "cpu"}}})
}

// readBody reads the whole body (at most MaxBody bytes) and checks that it is UTF-8 JSON.
func (h *Handler) readBody(r *http.Request) ([]byte, error) {
	tooLarge := apiError(413, "too_large", "", fmt.Sprintf("request body larger than %d bytes", h.lim.MaxBody))
	if r.ContentLength > h.lim.MaxBody {
		return nil, tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.lim.MaxBody+1))
	if err != nil {
		return nil, apiError(400, "bad_request", "", "reading the request body failed")
	}
	if int64(len(body)) > h.lim.MaxBody {
		return nil, tooLarge
	}
	if i := invalidUTF8(body); i >= 0 {
		return nil, apiError(400, "bad_request", "", fmt.Sprintf("request body is not valid UTF-8 (byte %d)", i))
	}
	return body, nil
}

// invalidUTF8 returns the offset of the first byte of b that is not UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

func (h *Handler) ner(w http.ResponseWriter, r *http.Request) error {
	body, err := h.readBody(r)
	if err != nil {
		return err
	}
	req, err := apijson.DecodeNER(bytes.NewReader(body), h.lim.contract())
	if err != nil {
		return err
	}
	docs := req.Documents
	if req.Model != "" && req.Model != h.model {
		return apiError(400, "bad_request", "model", fmt.Sprintf("unknown model %q (this Worker serves %q)", req.Model, h.model))
	}
	tg, err := h.getTagger()
	if err != nil {
		return err
	}
	ents, errs := tag(r.Context(), tg, docs)
	out := NERResponse{Model: h.model, Schema: tg.Schema(), Documents: make([]NERResult, len(docs))}
	for i, d := range docs {
		res := NERResult{ID: d.ID, Entities: ents[i]}
		if errs[i] != nil {
			res.Error = errs[i].Error()
		}
		if res.Entities == nil {
			res.Entities = []pipeline.Entity{}
		}
		out.Documents[i] = res
	}
	return writeJSON(w, 200, out)
}

// tag tags every document, in one batch when the tagger batches.
func tag(ctx context.Context, tg pipeline.Tagger, docs []Document) ([][]pipeline.Entity, []error) {
	ents := make([][]pipeline.Entity, len(docs))
	errs := make([]error, len(docs))
	if bt, ok := tg.(pipeline.BatchTagger); ok {
		texts := make([]string, len(docs))
		for i, d := range docs {
			texts[i] = d.Text
		}
		res, err := bt.TagDocuments(ctx, texts)
		if err == nil {
			return res, errs
		}
		// fall through: tag one by one so that the error lands on its document
	}
	for i, d := range docs {
		ents[i], errs[i] = tg.Tag(d.Text)
	}
	return ents, errs
}

func (h *Handler) deid(w http.ResponseWriter, r *http.Request) error {
	body, err := h.readBody(r)
	if err != nil {
		return err
	}
	req, err := apijson.DecodeDeid(bytes.NewReader(body), h.lim.contract())
	if err != nil {
		return err
	}
	tg, err := h.getTagger()
	if err != nil {
		return err
	}
	ents, errs := tag(r.Context(), tg, req.Documents)
	out := DeidResponse{Model: h.model, Mode: string(req.Mode), Documents: make([]DeidResult, len(req.Documents))}
	for i, d := range req.Documents {
		res := DeidResult{ID: d.ID, PHI: []PHI{}}
		if err := deidOne(&res, d.Text, ents[i], errs[i], req); err != nil {
			res.Error = err.Error()
		}
		out.Documents[i] = res
	}
	return writeJSON(w, 200, out)
}

// deidOne finds and masks the PHI of one text; the tagger's medical entities are protected.
func deidOne(res *DeidResult, txt string, ents []pipeline.Entity, tagErr error, req *DeidRequest) error {
	if tagErr != nil {
		return tagErr
	}
	var opts deid.Options
	for _, e := range ents {
		opts.Protected = append(opts.Protected, deid.Range{Start: e.Start, End: e.End})
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
		res.PHI = append(res.PHI, PHI{Start: sp.Start, End: sp.End, Category: sp.Category, Rule: sp.Rule, Text: sp.Text})
	}
	res.Masked = masked
	return nil
}
