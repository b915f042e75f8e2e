// Package tagger is the BiLM_BNER sequence tagger: per-character feature blocks (character
// embedding; dictionary BIO-type embedding from bidirectional maximum matching; slots for
// BiLM and CbBERT features) → BiGRU → self-attention → emissions → linear-chain CRF.
//
// The model is defined once over tensor.Backend, so the CPU and CUDA backends run the same
// code. Feature blocks and the attention layer are switched by Config, so every ablation is
// one flag.
package tagger
