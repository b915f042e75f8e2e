// Package nn holds the neural layers every bingli model is built from, each
// with an explicit forward and backward pass (in the spirit of llm.c and
// spago: no autograd tape), the AdamW optimizer with learning-rate
// schedules and gradient clipping, initialisers, and the linear-chain CRF.
// Layers run on any tensor.Backend; only the CRF works on host slices.
//
// # Forward and backward
//
// A layer's Forward allocates its output and returns it with a context
// (LinearCtx, RNNCtx, ...) holding what the backward needs; the layer
// itself keeps no per-call state, so one layer may run several times
// before its backward passes (a discriminator on real and on fake
// samples). Backward(ctx, dy, dx) follows the backend's convention: it
// accumulates (+=) into the parameter gradients and, when dx is non-nil,
// into the input gradient dx, so a tensor feeding two consumers just
// receives both contributions. Zero gradients (ZeroGrad, AdamW.ZeroGrad)
// before each backward pass. Each context owns its output and
// intermediates; call its Free when done with both (a GPU needs this; on
// the CPU it is optional). Dropout in evaluation returns its input
// itself, and its Free leaves it alone.
//
//	y, ctx, err := lin.Forward(x)        // y: [..., Out]
//	...                                  // loss, dy
//	err = lin.Backward(ctx, dy, dx)      // lin.Weight.Grad += dyᵀx; dx += dy·W
//	ctx.Free()
//
// Shapes: sequence layers take time-major padded batches [T, B, ·] with
// per-sequence lengths (RNN), attention takes batch-major [B, T, ·];
// SwapLeading converts between the two. Wrong shapes, ids or lengths give
// errors wrapping tensor.ErrShape, ErrArgument or ErrIndex, never panics.
//
// # Parameters and names
//
// A Parameter is a named backend tensor with its gradient. Every layer is
// built with a name prefix and names its parameters "<prefix>.<local>"
// after PyTorch's modules, so a safetensors file written from Parameters
// loads into the equivalent PyTorch module with at most a prefix rename:
//
//	Embedding      <p>.weight                          (nn.Embedding)
//	Linear         <p>.weight [Out, In], <p>.bias       (nn.Linear)
//	LayerNorm      <p>.weight (γ), <p>.bias (β)         (nn.LayerNorm)
//	RNN            <p>.weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0,
//	               and the same with "_reverse" when bidirectional
//	               (nn.GRU / nn.LSTM; RNNConfig.Layer sets the l index)
//	SelfAttention  <p>.in_proj_weight [3D, D], <p>.in_proj_bias,
//	               <p>.out_proj.weight, <p>.out_proj.bias
//	               (nn.MultiheadAttention, batch_first=True)
//	CRF            transitions, start_transitions, end_transitions
//	               (pytorch-crf), via HostMirror under its prefix
//
// Collect gathers the parameters of several modules and rejects duplicate
// names. The CRF keeps host-side Params; HostMirror exposes them as
// backend Parameters so that the optimizer, clipping and checkpoints treat
// the whole model alike.
//
// # Optimisation
//
// AdamW uses the backend's fused update with decoupled weight decay
// (DefaultNoDecay exempts biases, norms and embeddings), global
// gradient-norm clipping folded into the update, and a Schedule (Constant,
// LinearWarmupDecay, WarmupCosine). Its moments are exposed by name
// (State) and restored with Restore for resuming training.
//
// # Gradient checks
//
// Package nn/gradcheck compares every layer's backward pass with central
// finite differences; the tests run it on each layer, and models use it
// for whole-model checks.
package nn
