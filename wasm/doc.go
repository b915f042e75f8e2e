// Command wasm is bingli's browser entry (GOOS=js GOARCH=wasm, syscall/js). Built by
// `./build.sh web` into web/bingli.wasm, it runs inside each Web Worker of the page's
// worker pool (web/worker.js) and sets a global object `bingli` with:
//
//	bingli.load(name, files[, options])  files: {"config.json": Uint8Array, "model.safetensors", "vocab.txt", "lexicon.bin"}; options: {"batch": sentences decoded together}
//	bingli.tag(text, options)     → {"entities": [{start, end, type, text, confidence}], "ms"}; options: "{}" (none yet)
//	bingli.deid(text, options)    → {"phi": [{start, end, category, rule, text}], "masked", "ms"}; options: DeidOptions
//	bingli.split(text, parts)     → {"chunks": [[start, end], ...]} at sentence ends
//	bingli.encode(text)           → {"segments": [{start, chars, dict}]} (the ONNX peer's input)
//	bingli.spans(text, paths)     → {"entities": [...]} from tag paths decoded elsewhere
//	bingli.info()                 → {"model", "schema", "types", "categories", "maxChars", "pins"}
//
// text is a string or a Uint8Array of UTF-8 (whose validity is checked, naming the first bad
// byte); options is a JSON string. Every function returns a JSON string; on bad input it
// is {"error": "..."} (empty text, invalid UTF-8, over DefaultMaxChars characters, unknown
// mode or category, no model loaded): no call panics into the page (a recovered panic is
// reported as an error too). Offsets are code points of the text as given, end exclusive.
//
// The model files come from the page's own origin and are verified: the SHA-256 of each
// bundle's config.json is pinned into the module at build time (-ldflags -X main.pins=…),
// and config.json holds the hashes of the weights, vocabulary and lexicon, which
// weights.LoadBundleFS checks. No network access happens here: the worker fetches the
// files and passes the bytes in.
//
// The operations themselves are plain Go (engine.go) and tested natively; only main_js.go
// touches syscall/js.
package main
