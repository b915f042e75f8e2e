package server

import (
	_ "embed"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/bingli/bingli/internal/apijson"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed openapi.json
var openAPI []byte

// errorBody is every error response: {"error": {"code", "message", "field"}}.
type errorBody struct {
	Error *httpError `json:"error"`
}

// httpError is an API error with its status: the shared contract's (internal/apijson).
type httpError = apijson.Error

func apiError(status int, code, field, msg string) error {
	return apijson.NewError(status, code, field, msg)
}

// limits are the request limits the shared decoders check.
func (s *Server) limits() apijson.Limits {
	return apijson.Limits{MaxDocs: s.cfg.MaxDocs, MaxDocChars: s.cfg.MaxDocChars, TooManyHint: "use /v1/jobs for bulk work"}
}

func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.accessLog)

	e.GET("/healthz", func(c echo.Context) error { return c.JSON(200, map[string]string{"status": "ok"}) })
	e.GET("/readyz", func(c echo.Context) error {
		if !s.ready.Load() {
			return apiError(503, "not_ready", "", "shutting down")
		}
		return c.JSON(200, map[string]string{"status": "ready"})
	})
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})))
	e.GET("/openapi.json", func(c echo.Context) error { return c.Blob(200, "application/json", openAPI) })
	if webIndex(s.cfg.WebDir) {
		e.Static("/", s.cfg.WebDir)
	} else {
		e.GET("/", func(c echo.Context) error { return c.HTML(200, placeholderPage) })
	}

	// Authentication is attached per route, not to the group: a group middleware makes echo
	// answer a wrong method with 404 instead of 405.
	v1 := e.Group("/v1")
	v1.POST("/ner", s.handleNER, s.authenticate)
	v1.POST("/deid", s.handleDeid, s.authenticate)
	v1.GET("/models", s.handleModels, s.authenticate)
	v1.POST("/jobs", s.handleSubmitJob, s.authenticate)
	v1.GET("/jobs", s.handleListJobs, s.authenticate)
	v1.GET("/jobs/:id", s.handleGetJob, s.authenticate)
	v1.GET("/jobs/:id/results", s.handleJobResults, s.authenticate)
	v1.DELETE("/jobs/:id", s.handleDeleteJob, s.authenticate)
	return e
}

const placeholderPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bingli</title></head>
<body><h1>bingli</h1>
<p>The browser UI is not built yet. The HTTP API is served under <code>/v1</code>;
see <a href="/openapi.json">/openapi.json</a>.</p></body></html>
`

// handleError writes every error as errorBody. Client-error messages are not logged: they
// can quote field names taken from the request.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *httpError
	var ee *echo.HTTPError
	switch {
	case errors.As(err, &he):
		if he.Status >= 500 { // server-side messages only (storage, readiness), never request text
			s.cfg.Log.Error("request failed", "route", c.Path(), "status", he.Status, "err", he.Message)
		}
	case errors.As(err, &ee):
		he = &httpError{Status: ee.Code, Code: codeFor(ee.Code), Message: http.StatusText(ee.Code)}
	default:
		s.cfg.Log.Error("request failed", "route", c.Path(), "err", err)
		he = &httpError{Status: 500, Code: "internal", Message: "internal error"}
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(he.Status)
		return
	}
	_ = c.JSON(he.Status, errorBody{he})
}

func codeFor(status int) string {
	switch status {
	case 404:
		return "not_found"
	case 405:
		return "method_not_allowed"
	case 413:
		return "too_large"
	}
	if status >= 500 {
		return "internal"
	}
	return "bad_request"
}

// accessLog logs one line per request: no body, no query string, no text.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		elapsed := time.Since(start)
		s.metrics.requestDuration.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Observe(elapsed.Seconds())
		s.cfg.Log.Info("request", "method", c.Request().Method, "route", route, "status", status,
			"bytes", c.Response().Size, "ms", float64(elapsed.Microseconds())/1000, "principal", principal(c))
		return nil
	}
}

type modelInfo struct {
	Name    string   `json:"name"`
	Schema  string   `json:"schema"`
	Backend string   `json:"backend"`
	Default bool     `json:"default"`
	Kinds   []string `json:"kinds"`
}

func (s *Server) handleModels(c echo.Context) error {
	m := s.cfg.Model
	return c.JSON(200, map[string][]modelInfo{"models": {{
		Name: m.Name, Schema: m.Tagger.Schema(), Backend: m.Backend, Default: true, Kinds: []string{"ner", "deid"},
	}}})
}
