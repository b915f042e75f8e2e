//go:build js && wasm

// Command worker is bingli's Cloudflare Worker: the handler of package api (POST /v1/ner,
// POST /v1/deid, GET /v1/models, GET /healthz) served from WebAssembly through
// github.com/syumai/workers. The model bundle is compiled in: build.sh copies it (default
// weights/ccks2017-lite) into model/ before `GOOS=js GOARCH=wasm go build`, and main
// verifies its hashes on load like every bundle load does.
//
// syumai/workers starts a fresh Go instance for every request, so the bundle is loaded
// (and its dictionary decompressed) once per request that needs it; requests refused for
// bad input never load it. See docs/BENCHMARKS.md for the cost.
package main

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/syumai/workers"

	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/weights"
	"github.com/bingli/bingli/worker/api"
)

//go:embed model
var model embed.FS

func load() (pipeline.Tagger, error) {
	sub, err := fs.Sub(model, "model/bundle")
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	b, err := weights.LoadBundleFS(sub)
	if err != nil {
		return nil, fmt.Errorf("worker: loading the model: %w", err)
	}
	tg, err := pipeline.NewModelTagger(cpu.New(1), b)
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	return tg, nil
}

func main() {
	name, err := model.ReadFile("model/name.txt")
	if err != nil {
		name = []byte("unknown")
	}
	workers.Serve(api.NewLazy(strings.TrimSpace(string(name)), load, api.DefaultLimits))
}
