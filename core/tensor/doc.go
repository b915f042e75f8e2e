// Package tensor is bingli's numerical engine: a float32 Tensor whose memory
// belongs to a Backend, and the Backend interface that every model in
// core/model is written against once. The pure-Go CPU backend (package
// tensor/cpu) is the reference and runs everywhere, the browser included;
// a CUDA backend implements the same interface, and package
// tensor/backendtest is the conformance suite both must pass.
//
// # Op groups
//
// Besides the usual dense ops (Linalg, Elementwise, Activations,
// Normalization, Regularization, Losses, Indexing, Reductions, Optimizer),
// the Backend has coarse fused ops that keep device crossings and kernel
// launches few: a whole GRU or LSTM direction over a padded [T, B, In]
// batch (Recurrent; bidirectional layers are two calls writing adjacent
// column blocks of one output), multi-head attention with a key padding
// mask (Attention), LayerNorm fused with the residual add, and the AdamW
// update. Quantized multiplies by row-quantised int8 weights, as the
// browser's model bundles ship them.
//
// # Ownership
//
// A Tensor is a shape plus a handle to backend Storage (a []float32 on the
// CPU, a device pointer on a GPU). Tensors are created by a Backend (New,
// FromSlice) and may only be passed to that backend's ops; host data moves
// in and out only through FromSlice, Upload, ToSlice and Download. Reshape
// makes views that share storage. Free releases storage early (a GPU needs
// this; on the CPU it just drops the reference).
//
// # Destination passing
//
// Every op writes into destination tensors the caller provides; no op
// allocates a tensor it returns. This lets a model allocate its activations,
// gradients and workspaces once and reuse them every step, which on a GPU
// avoids allocator traffic and keeps device memory predictable, and it makes
// every buffer explicit in the style of llm.c. Only host-side scalars
// (losses, norms, sums) are returned as values.
//
// Two rules say what happens to a destination:
//
//   - Forward ops overwrite their destinations. Elementwise forward ops
//     (Add, Sub, Mul, Scale, AddBias, Activate, Softmax, Dropout, CopyCols
//     without accumulation) allow the destination to be one of the inputs
//     (in place); other ops require destinations not to alias inputs.
//   - Backward ops, the gradient outputs of the losses and the accumulating
//     helpers (AddScaled, MulAdd, EmbeddingBackward, ...) add into their
//     gradient destinations (+=), so a tensor used twice simply receives
//     both contributions. Zero gradients with Fill before a backward pass.
//     Gradient destinations must not alias the op's inputs.
//
// MatMul and BatchedMatMul follow BLAS instead: C = α·op(A)·op(B) + β·C.
//
// # Errors
//
// Every op checks its arguments and returns an error, never panics, for a
// nil tensor, a tensor of another backend, mismatched shapes or an index
// out of range, so shapes and ids derived from user data cannot crash the
// process. Errors name the op and the offending shapes and wrap ErrShape,
// ErrArgument, ErrIndex or ErrBackend. An op that returns an error has not
// modified any destination. The Check* functions hold the shared shape
// contracts so that all backends accept and reject exactly the same calls.
//
// # Shapes
//
// Shapes are row-major []int. Ops that work on matrices view a tensor as
// [rows, cols] with cols its last dimension (Tensor.Matrix), so a sequence
// batch [T, B, H] feeds a matrix op as [T·B, H] without reshaping. Each
// Backend method documents its exact shape contract.
package tensor
