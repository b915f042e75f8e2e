// Package weights stores bingli's model weights: it reads and writes named
// tensors in the safetensors format (optionally zstd-compressed), quantises
// 2-D weights to int8 per row for the browser, and saves and loads model
// bundles. It is a leaf: it imports nothing of this module and hands models
// shapes plus plain slices, so the browser, the server and the tools can
// load a bundle without pulling in the models. It is pure Go and builds for
// GOOS=js GOARCH=wasm.
//
// # safetensors layout
//
// A file is an 8-byte little-endian uint64 N, N bytes of UTF-8 JSON header,
// then the data buffer:
//
//	{"__metadata__":{"k":"v"},"name":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},...}
//
// data_offsets are [begin, end) byte offsets relative to the start of the
// data buffer; elements are little-endian, row-major. The optional
// "__metadata__" is a string→string map. Supported dtypes: BOOL, U8, I8,
// F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64
// (typed accessors convert the common ones; F16, BF16 and F64 read as
// float32 on request).
//
// Writing (File.WriteTo) reproduces the reference Rust/Python library byte
// for byte: compact JSON, "__metadata__" first (keys sorted, which the
// reference leaves to hash order), tensors ordered by decreasing dtype
// alignment then by name (the reference's order; it keeps each tensor
// aligned to its element size), data contiguous in that order, header
// padded with spaces to a multiple of 8.
//
// Reading (Parse, Read, ReadFile) never panics and refuses: a header length
// over MaxHeaderSize (100 MB) or past the end of the input; invalid UTF-8
// or JSON, or non-whitespace after the object (whitespace padding of any
// length is accepted); duplicate or empty names, unknown or missing keys in
// an entry; unknown dtypes; negative dimensions; a data_offsets span that
// differs from elements × dtype size; and offsets that, sorted, do not tile
// the data buffer exactly — holes, overlaps, trailing bytes and truncated
// data are all errors, as in the reference reader. Errors name the tensor
// and wrap ErrInvalid, ErrTooLarge, ErrNotFound or ErrMismatch.
// File.Expect checks dtype and shape for model loaders ("tensor
// tagger.gru.w_ih: want shape [384 128], got [384 64]").
//
// # zstd
//
// A ".safetensors.zst" file is one zstd stream of the plain file. Readers
// detect it by the zstd magic (ReadFile also refuses a ".zst" name whose
// content is not zstd); File.WriteFile compresses when the path ends in
// ".zst". Decompressed output is capped at MaxSize (1 GiB; ParseLimit takes
// another cap), so a decompression bomb is an ErrTooLarge error.
//
// # int8 per-row quantisation
//
// A float32 weight W [rows, cols] (Linear layout [out, in]) is stored as two
// tensors: "W.q", I8 [rows, cols], and "W.scale", F32 [rows] (QuantSuffix,
// ScaleSuffix). Symmetric per row: scale = maxabs(row)/127, q =
// round(w/scale) with halves away from zero, q ∈ [-127, 127], so
// |w − q·scale| ≤ scale/2; an all-zero row has scale 0. MatMulInt8
// computes y = x·Wᵀ straight from the int8 form, applying each row's scale
// once per output. File.Float32 returns a weight as float32 whether it is
// stored as a float tensor or as an int8 pair.
//
// # Model bundles
//
// A bundle is a directory:
//
//	config.json                                  BundleConfig, written last
//	model.safetensors | model.safetensors.zst    the tensors
//	vocab.txt                                    optional
//	lexicon.bin                                  optional
//
// config.json records the format version, architecture and hyper-parameters,
// label schema and tag set, vocabulary and lexicon hashes, training data,
// metrics, quantisation, creation date, tool version, a research-use notice
// and the SHA-256 of the tensor file. LoadBundle parses it strictly
// (unknown fields are errors) and verifies every hash before use.
package weights
