package bert

import (
	"github.com/sugarme/gotch/nn"

	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// closeVarStore frees every tensor of vs now instead of waiting for Go's
// finalizers (libtorch memory is invisible to the Go garbage collector, so
// a loop loading models can run out of memory, GPU memory above all).
// Freed tensors are removed from vs, so a second call does nothing.
func closeVarStore(vs *nn.VarStore) (err error) {
	if vs == nil {
		return nil
	}
	defer torchutil.Recover(&err)
	vs.Destroy()
	return nil
}

// Close frees the model's parameter tensors (its VarStore) now. It is
// idempotent; the model must not be used after Close, and tensors obtained
// from Parameters or VarStore are freed with it. Models sharing a VarStore
// (the Bert field of a head) are freed together: close the head only.
func (m *Model) Close() error { return closeVarStore(m.vs) }

// Close frees the model's parameter tensors (encoder and head) now; see
// Model.Close. It is idempotent.
func (m *ForMaskedLM) Close() error { return closeVarStore(m.Bert.vs) }

// Close frees the model's parameter tensors (encoder and head) now; see
// Model.Close. It is idempotent.
func (m *ForTokenClassification) Close() error { return closeVarStore(m.Bert.vs) }
