//go:build js && wasm

package main

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"syscall/js"
	"time"

	"github.com/bingli/bingli/core/deid"
	"github.com/bingli/bingli/core/tensor/cpu"
)

// pins is set at build time: "name=sha256,name=sha256" (config.json hashes).
var pins string

var engine *Engine

func pinMap() map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(pins, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// result marshals v, or {"error"} for err; a panic becomes an error too.
func result(f func() (any, error)) (out string) {
	defer func() {
		if r := recover(); r != nil {
			b, _ := json.Marshal(map[string]string{"error": fmt.Sprintf("internal error: %v", r)})
			out = string(b)
		}
	}()
	v, err := f()
	if err != nil {
		b, _ := json.Marshal(map[string]string{"error": err.Error()})
		return string(b)
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	return string(b)
}

// textArg reads a string or a Uint8Array argument without altering its bytes.
func textArg(args []js.Value, i int) (string, error) {
	if i >= len(args) || args[i].IsUndefined() || args[i].IsNull() {
		return "", fmt.Errorf("argument %d: want text (a string or a Uint8Array)", i+1)
	}
	v := args[i]
	if v.Type() == js.TypeString {
		return v.String(), nil
	}
	if v.InstanceOf(js.Global().Get("Uint8Array")) {
		b := make([]byte, v.Get("length").Int())
		js.CopyBytesToGo(b, v)
		return string(b), nil
	}
	return "", fmt.Errorf("argument %d: want a string or a Uint8Array, got %s", i+1, v.Type())
}

// optsArg decodes a JSON options string (or nothing) into dst.
func optsArg(args []js.Value, i int, dst any) error {
	if i >= len(args) || args[i].IsUndefined() || args[i].IsNull() {
		return nil
	}
	if args[i].Type() != js.TypeString {
		return fmt.Errorf("argument %d: options must be a JSON string", i+1)
	}
	dec := json.NewDecoder(strings.NewReader(args[i].String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	return nil
}

func since(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

func fn(f func(args []js.Value) (any, error)) js.Func {
	return js.FuncOf(func(this js.Value, args []js.Value) any {
		return result(func() (any, error) { return f(args) })
	})
}

func main() {
	// A record of 1,000 characters allocates about 7 MB (activations, work tensors) against
	// a live heap of about 10 MB (the model and its dictionary trie): collect less often.
	debug.SetGCPercent(400)
	api := js.Global().Get("Object").New()
	api.Set("load", fn(func(args []js.Value) (any, error) {
		if len(args) < 2 || args[0].Type() != js.TypeString || args[1].Type() != js.TypeObject {
			return nil, fmt.Errorf("load(name, files): want a bundle name and an object of Uint8Arrays")
		}
		files := map[string][]byte{}
		for _, f := range BundleFiles {
			v := args[1].Get(f)
			if v.IsUndefined() {
				continue
			}
			if !v.InstanceOf(js.Global().Get("Uint8Array")) {
				return nil, fmt.Errorf("load: %s must be a Uint8Array", f)
			}
			b := make([]byte, v.Get("length").Int())
			js.CopyBytesToGo(b, v)
			files[f] = b
		}
		t := time.Now()
		e, err := LoadEngine(args[0].String(), files, pinMap())
		if err != nil {
			return nil, err
		}
		var lo struct {
			Batch int `json:"batch"`
		}
		if err := optsArg(args, 2, &lo); err != nil {
			return nil, err
		}
		if lo.Batch > 0 {
			e.Batch = lo.Batch
		}
		engine = e
		return map[string]any{"model": e.Name, "schema": e.Schema, "types": e.Types, "batch": e.Batch, "ms": since(t)}, nil
	}))
	api.Set("tag", fn(func(args []js.Value) (any, error) {
		s, err := textArg(args, 0)
		if err != nil {
			return nil, err
		}
		var opts struct{}
		if err := optsArg(args, 1, &opts); err != nil {
			return nil, err
		}
		t := time.Now()
		ents, err := engine.Tag(s)
		if err != nil {
			return nil, err
		}
		return map[string]any{"entities": ents, "ms": since(t)}, nil
	}))
	api.Set("deid", fn(func(args []js.Value) (any, error) {
		s, err := textArg(args, 0)
		if err != nil {
			return nil, err
		}
		var opts DeidOptions
		if err := optsArg(args, 1, &opts); err != nil {
			return nil, err
		}
		t := time.Now()
		r, err := engine.Deid(s, opts)
		if err != nil {
			return nil, err
		}
		return map[string]any{"phi": r.PHI, "masked": r.Masked, "ms": since(t)}, nil
	}))
	api.Set("detect", fn(func(args []js.Value) (any, error) {
		s, err := textArg(args, 0)
		if err != nil {
			return nil, err
		}
		var opts struct {
			Categories []string `json:"categories"`
		}
		if err := optsArg(args, 1, &opts); err != nil {
			return nil, err
		}
		t := time.Now()
		phi, err := engine.Detect(s, opts.Categories)
		if err != nil {
			return nil, err
		}
		return map[string]any{"phi": phi, "ms": since(t)}, nil
	}))
	api.Set("split", fn(func(args []js.Value) (any, error) {
		s, err := textArg(args, 0)
		if err != nil {
			return nil, err
		}
		parts := 1
		if len(args) > 1 && args[1].Type() == js.TypeNumber {
			parts = args[1].Int()
		}
		c, err := Split(s, parts, DefaultMaxChars)
		if err != nil {
			return nil, err
		}
		return map[string]any{"chunks": c}, nil
	}))
	api.Set("encode", fn(func(args []js.Value) (any, error) {
		s, err := textArg(args, 0)
		if err != nil {
			return nil, err
		}
		segs, err := engine.Encode(s)
		if err != nil {
			return nil, err
		}
		// []uint8 would marshal as base64; send numbers.
		type seg struct {
			Start int     `json:"start"`
			Chars []int32 `json:"chars"`
			Dict  []int   `json:"dict"`
		}
		out := make([]seg, len(segs))
		for i, sg := range segs {
			d := make([]int, len(sg.Dict))
			for j, v := range sg.Dict {
				d[j] = int(v)
			}
			out[i] = seg{Start: sg.Start, Chars: sg.Chars, Dict: d}
		}
		return map[string]any{"segments": out}, nil
	}))
	api.Set("spans", fn(func(args []js.Value) (any, error) {
		s, err := textArg(args, 0)
		if err != nil {
			return nil, err
		}
		var paths [][]int32
		if err := optsArg(args, 1, &paths); err != nil {
			return nil, err
		}
		ents, err := engine.Spans(s, paths)
		if err != nil {
			return nil, err
		}
		return map[string]any{"entities": ents}, nil
	}))
	api.Set("info", fn(func(args []js.Value) (any, error) {
		cats := make([]string, 0, len(deid.Categories))
		for _, c := range deid.Categories {
			cats = append(cats, string(c))
		}
		names := []string{}
		for k := range pinMap() {
			names = append(names, k)
		}
		sort.Strings(names)
		out := map[string]any{"categories": cats, "maxChars": DefaultMaxChars, "pins": names, "tags": deid.Tags, "kernel": cpu.KernelName()}
		if engine != nil {
			out["model"], out["schema"], out["types"] = engine.Name, engine.Schema, engine.Types
		}
		return out, nil
	}))
	js.Global().Set("bingli", api)
	if ready := js.Global().Get("bingliReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}
