// Package tensors holds gotch tensor plumbing shared by the model and the
// training code: a Scope that owns intermediate tensors until a function
// returns, conversions between gotch tensors and safetensors.Tensor, and
// tensors built from Go slices.
//
// Ownership rule: a function drops what it creates and returns
// exactly one tensor the caller owns. Add every intermediate to a Scope and
// `defer s.Drop()`; the scope also keeps each intermediate reachable until
// the drop, so no Go finalizer frees a tensor while a C++ op still reads it.
//
// All functions here must run on a goroutine locked to its OS thread (see
// internal/torchutil).
package tensors
