// Package nn holds the neural layers every bingli model is built from, each with an
// explicit forward and backward, and gradient checks against finite differences.
package nn
