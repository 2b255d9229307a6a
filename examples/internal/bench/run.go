package bench

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"time"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/bbshim"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/biobertpt-go/biobertpt/bert"
	"github.com/biobertpt-go/biobertpt/internal/optim"
	"github.com/biobertpt-go/biobertpt/internal/tensors"
	"github.com/biobertpt-go/biobertpt/internal/torchutil"
)

// ClipNorm is the gradient-clipping max norm of every step (hf_bench.py).
const ClipNorm = 1.0

// Impl names this implementation in Result.Impl.
const Impl = "biobertpt-go (gotch v0.9.1)"

// Peak-memory kinds of Result.PeakMemKind.
const (
	PeakHostRSS      = "host_peak_rss_vmhwm"             // VmHWM reset before the model was built
	PeakHostRSSTotal = "host_peak_rss_vmhwm_since_start" // VmHWM could not be reset: the process's peak
	// PeakCUDAAllocated: torch.cuda.max_memory_allocated() (and
	// peak_reserved_gib max_memory_reserved()) from the caching allocator
	// through the setup-installed bbshim, peak reset before the model was
	// built, as hf_bench.py.
	PeakCUDAAllocated = "cuda_max_memory_allocated"
	// PeakCUDAMissing: the shim has no allocator statistics (CUDA runtime
	// headers not found at setup); gpu_process_mem_gib is the fallback.
	PeakCUDAMissing = "unavailable: bbshim built without CUDA allocator stats"
)

// Result is one benchmark's JSON line: hf_bench.py's fields in its order
// (task … device, then its extras), then this package's own. Pointers are
// null when a value is unavailable.
type Result struct {
	Task            string   `json:"task"`
	Batch           int      `json:"batch"`
	Seq             int      `json:"seq"`
	DType           string   `json:"dtype"`
	Attn            string   `json:"attn"` // requested: auto, sdpa or manual
	MsPerStep       float64  `json:"ms_per_step"`
	TokensPerS      float64  `json:"tokens_per_s"`
	PeakMemGiB      *float64 `json:"peak_mem_gib"` // see PeakMemKind
	Device          string   `json:"device"`
	PeakReservedGiB *float64 `json:"peak_reserved_gib"` // CUDA caching allocator's peak reserved; null on CPU
	Steps           int      `json:"steps"`
	Warmup          int      `json:"warmup"`
	Dropout         float64  `json:"dropout"`
	Optim           string   `json:"optim"`            // "adamw_biobertpt_" + fused, foreach or single-tensor
	MatmulPrecision string   `json:"matmul_precision"` // "highest" (fp32) or "high" (tf32)
	AttnUsed        string   `json:"attn_used"`        // "sdpa" or "manual"
	NParams         int64    `json:"n_params"`
	LastLoss        *float64 `json:"last_loss"` // loss of the last timed step; null when not finite

	QKV              string      `json:"qkv"`                 // "fused" (one (3H, H) matmul) or "separate"
	CUDAGraph        bool        `json:"cuda_graph"`          // the timed steps were replays of a captured graph
	PeakMemKind      string      `json:"peak_mem_kind"`       // PeakHostRSS, PeakHostRSSTotal, PeakCUDAAllocated or PeakCUDAMissing
	MaxMemoryGiB     *float64    `json:"max_memory_gib"`      // Options.MaxMemoryGiB; null without a cap
	GPUProcessMemGiB *float64    `json:"gpu_process_mem_gib"` // nvidia-smi, CUDA only
	Config           string      `json:"config"`              // mbert, small, tiny or the config.json path
	Impl             string      `json:"impl"`
	Soak             *SoakReport `json:"soak,omitempty"`
}

// SoakReport is what Options.Soak measured over its extra steps. Tensors
// are len(ts.ExistingTensors); resident sizes are VmRSS in MiB.
type SoakReport struct {
	Steps        int       `json:"steps"`
	MsPerStep    float64   `json:"ms_per_step"`
	TensorsStart int       `json:"tensors_start"`
	TensorsEnd   int       `json:"tensors_end"`
	RSSStartMiB  float64   `json:"rss_start_mib"`
	RSSEndMiB    float64   `json:"rss_end_mib"`
	RSSMaxMiB    float64   `json:"rss_max_mib"`     // of the samples
	RSSSamples   []float64 `json:"rss_samples_mib"` // about 20, evenly spaced, first = start
	// GoHeapStartMiB and GoHeapEndMiB are the live Go heap after a GC
	// (runtime.MemStats.HeapAlloc): growth of the resident set beyond it is
	// C/C++ memory (libtorch, gotch's C wrappers).
	GoHeapStartMiB float64  `json:"go_heap_start_mib"`
	GoHeapEndMiB   float64  `json:"go_heap_end_mib"`
	LastLoss       *float64 `json:"last_loss"` // after the soak
}

// Run builds a fresh model of o's configuration on o.Device, runs o.Warmup
// untimed and o.Steps timed training steps on one fixed random batch (and
// o.Soak more, when set) and reports hf_bench.py's measurements. Every
// tensor it creates is dropped before it returns. Errors from allocation
// failures, and a peak over o.MaxMemoryGiB, wrap torchutil.ErrOutOfMemory
// and carry torchutil.OOMHint.
func Run(o Options) (res *Result, err error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer torchutil.Recover(&err)
	prec, restorePrec, err := setPrecision(o)
	if err != nil {
		return nil, err
	}
	defer restorePrec()
	prevFin := ts.UseFinalizer
	ts.UseFinalizer = o.Finalizers
	defer func() { ts.UseFinalizer = prevFin }()

	err = torchutil.SetGrad(true, func() error {
		res, err = run(o, prec)
		return err
	})
	return res, oomError(o, err)
}

func run(o Options, prec string) (_ *Result, err error) {
	if o.CUDAGraph && !o.Device.IsCuda() {
		return nil, fmt.Errorf("bench: -cuda-graph: needs -device cuda: %w", ErrUsage)
	}
	torchutil.ManualSeed(o.Seed)
	peakKind := PeakCUDAMissing
	if !o.Device.IsCuda() {
		peakKind = PeakHostRSS
		if torchutil.ResetPeakRSS() != nil {
			peakKind = PeakHostRSSTotal
		}
	} else if bbshim.HasCUDAStats() {
		if err := bbshim.ResetCUDAPeak(o.Device.Value); err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		peakKind = PeakCUDAAllocated
	}
	// The cap is set before the model is built, as the peak is reset.
	lim, err := torchutil.LimitMemory(o.Device, o.MaxMemoryGiB)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer func() {
		if cerr := lim.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("bench: %w", cerr)
		}
	}()
	r, err := newRunner(o)
	if err != nil {
		return nil, err
	}
	defer r.close()

	for i := 0; i < o.Warmup; i++ {
		if err := r.step(); err != nil {
			return nil, fmt.Errorf("bench: warmup step %d: %w", i+1, err)
		}
	}
	step := r.step
	if o.CUDAGraph {
		g, err := r.capture()
		if err != nil {
			return nil, fmt.Errorf("bench: -cuda-graph: %w", err)
		}
		defer g.Free()
		step = g.Replay
	}
	if err := r.sync(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	for i := 0; i < o.Steps; i++ {
		if err := step(); err != nil {
			return nil, fmt.Errorf("bench: step %d: %w", i+1, err)
		}
	}
	if err := r.sync(); err != nil {
		return nil, err
	}
	dt := time.Since(t0)
	ms := dt.Seconds() / float64(o.Steps) * 1000
	if err := lim.Check(); err != nil {
		return nil, fmt.Errorf("bench: %s batch %d × %d on %s after %d steps: %w", o.Task, o.Batch, o.Seq, torchutil.DeviceString(o.Device), o.Warmup+o.Steps, err)
	}

	res := &Result{
		Task: o.Task, Batch: o.Batch, Seq: o.Seq, DType: o.DType, Attn: o.Attention,
		MsPerStep:  round(ms, 3),
		TokensPerS: round(float64(o.Batch*o.Seq)/(ms/1000), 1),
		Device:     hardwareName(o.Device),
		Steps:      o.Steps, Warmup: o.Warmup, Dropout: r.cfg.HiddenDropoutProb,
		Optim:           "adamw_biobertpt_" + r.opt.Implementation(),
		MatmulPrecision: prec,
		AttnUsed:        map[bool]string{true: "sdpa", false: "manual"}[r.sdpa],
		QKV:             map[bool]string{true: "fused", false: "separate"}[r.fusedQKV],
		CUDAGraph:       o.CUDAGraph,
		NParams:         r.nParams,
		PeakMemKind:     peakKind,
		Config:          o.ConfigName,
		Impl:            Impl,
	}
	if o.MaxMemoryGiB > 0 {
		res.MaxMemoryGiB = ptr(o.MaxMemoryGiB)
	}
	if res.Config == "" {
		res.Config = "mbert"
	}
	if res.LastLoss, err = r.lastLoss(); err != nil {
		return nil, err
	}
	if o.Device.IsCuda() {
		if peakKind == PeakCUDAAllocated {
			st, err := bbshim.CUDAMemory(o.Device.Value)
			if err != nil {
				return nil, fmt.Errorf("bench: %w", err)
			}
			res.PeakMemGiB = ptr(round(float64(st.AllocatedPeak)/(1<<30), 3))
			res.PeakReservedGiB = ptr(round(float64(st.ReservedPeak)/(1<<30), 3))
		}
		if g, ok := gpuProcessMemGiB(); ok {
			res.GPUProcessMemGiB = ptr(round(g, 3))
		}
	} else if p, err := torchutil.PeakRSS(); err == nil {
		res.PeakMemGiB = ptr(round(float64(p)/(1<<30), 3))
	}
	if o.Soak > 0 {
		if res.Soak, err = r.soak(o.Soak); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// soak runs n more steps, sampling the resident set about 20 times.
func (r *runner) soak(n int) (*SoakReport, error) {
	rep := &SoakReport{Steps: n}
	every := max(1, n/20)
	sample := func() error {
		b, err := torchutil.RSS()
		if err != nil {
			return err
		}
		mib := round(float64(b)/(1<<20), 1)
		rep.RSSSamples = append(rep.RSSSamples, mib)
		rep.RSSMaxMiB = max(rep.RSSMaxMiB, mib)
		return nil
	}
	rep.GoHeapStartMiB = goHeapMiB()
	rep.TensorsStart = len(ts.ExistingTensors)
	if err := sample(); err != nil {
		return nil, err
	}
	rep.RSSStartMiB = rep.RSSSamples[0]
	t0 := time.Now()
	for i := 1; i <= n; i++ {
		if err := r.step(); err != nil {
			return nil, fmt.Errorf("bench: soak step %d: %w", i, err)
		}
		if i%every == 0 || i == n {
			if err := sample(); err != nil {
				return nil, err
			}
		}
	}
	if err := r.sync(); err != nil {
		return nil, err
	}
	rep.MsPerStep = round(time.Since(t0).Seconds()/float64(n)*1000, 3)
	rep.GoHeapEndMiB = goHeapMiB()
	rep.TensorsEnd = len(ts.ExistingTensors)
	if err := sample(); err != nil {
		return nil, err
	}
	rep.RSSSamples = rep.RSSSamples[:len(rep.RSSSamples)-1] // the post-GC reading is the end value
	rep.RSSEndMiB = round(float64(mustRSS())/(1<<20), 1)
	var err error
	rep.LastLoss, err = r.lastLoss()
	return rep, err
}

// goHeapMiB runs a GC and returns the live Go heap in MiB.
func goHeapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return round(float64(m.HeapAlloc)/(1<<20), 1)
}

func mustRSS() int64 {
	b, _ := torchutil.RSS()
	return b
}

// runner holds one benchmark's model, optimizer and batch.
type runner struct {
	o        Options
	cfg      *bert.Config
	vs       *nn.VarStore
	params   []optim.Param
	opt      *optim.AdamW
	scaler   *optim.GradScaler // fp16's loss scaler; disabled (a no-op) otherwise
	in       bert.Inputs
	labels   *ts.Tensor // NER: (B, T) labels; MLM: the labels at positions
	pos      *ts.Tensor // MLM: flat positions of the labels (MakeBatch's recipe, on the host)
	loss     func(bert.Inputs, *ts.Tensor) (*ts.Tensor, error)
	last     *ts.Tensor // the last step's loss
	sdpa     bool
	fusedQKV bool
	nParams  int64
}

func newRunner(o Options) (_ *runner, err error) {
	r := &runner{o: o, cfg: o.config()}
	defer func() {
		if err != nil {
			r.close()
		}
	}()
	var params []bert.Param
	var model *bert.Model
	switch o.Task {
	case TaskNER:
		labels := make([]string, NumLabels)
		for i := range labels {
			labels[i] = "LABEL_" + strconv.Itoa(i)
		}
		if err := r.cfg.SetLabels(labels); err != nil {
			return nil, err
		}
		m, err := bert.NewForTokenClassification(r.cfg, o.Device)
		if err != nil {
			return nil, fmt.Errorf("bench: build model: %w", err)
		}
		r.vs, params, model = m.VarStore(), m.Parameters(), m.Bert
		r.loss = func(in bert.Inputs, y *ts.Tensor) (*ts.Tensor, error) { return m.Loss(in, y, true, nil) }
	default:
		m, err := bert.NewForMaskedLM(r.cfg, o.Device)
		if err != nil {
			return nil, fmt.Errorf("bench: build model: %w", err)
		}
		r.vs, params, model = m.VarStore(), m.Parameters(), m.Bert
		r.loss = func(in bert.Inputs, y *ts.Tensor) (*ts.Tensor, error) { return m.LossAt(in, r.pos, y, true) }
	}
	if err := model.SetPrecision(modelPrecision(o.DType)); err != nil {
		return nil, fmt.Errorf("bench: -dtype %s: %w", o.DType, err)
	}
	switch o.Attention {
	case "sdpa":
		err = model.SetAttention(bert.AttentionSDPA)
	case "manual":
		err = model.SetAttention(bert.AttentionManual)
	}
	if err != nil {
		return nil, fmt.Errorf("bench: -attn %s: %w", o.Attention, err)
	}
	if o.QKV == "fused" || o.QKV == "separate" {
		model.SetFusedQKV(o.QKV == "fused")
	}
	r.fusedQKV = model.FusedQKV()
	r.sdpa = model.SDPA()
	r.nParams = bert.NumParameters(params)
	r.params = params
	ao := optim.DefaultAdamWOptions()
	ao.Impl = o.AdamW
	if r.opt, err = optim.NewAdamW(r.params, ao); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if r.scaler, err = newScaler(o.DType); err != nil {
		return nil, err
	}
	b, err := MakeBatch(o.Task, o.Batch, o.Seq, r.cfg.VocabSize, uint64(o.Seed))
	if err != nil {
		return nil, err
	}
	shape := []int64{int64(o.Batch), int64(o.Seq)}
	for _, x := range []struct {
		dst  **ts.Tensor
		data []int64
	}{{&r.in.InputIDs, b.InputIDs}, {&r.in.AttentionMask, b.AttentionMask}, {&r.in.TokenTypeIDs, b.TokenTypeIDs}} {
		if *x.dst, err = tensors.FromInt64s(x.data, shape, o.Device); err != nil {
			return nil, fmt.Errorf("bench: batch: %w", err)
		}
	}
	if o.Task == TaskNER {
		r.labels, err = tensors.FromInt64s(b.Labels, shape, o.Device)
	} else {
		pos, labels := b.MaskedPositions()
		n := []int64{int64(len(pos))}
		if r.pos, err = tensors.FromInt64s(pos, n, o.Device); err == nil {
			r.labels, err = tensors.FromInt64s(labels, n, o.Device)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bench: batch: %w", err)
	}
	return r, nil
}

// step is hf_bench.py's step(): loss, backward, clip 1.0, AdamW, zero_grad,
// with fp16's loss scaling (scale, backward, unscale, clip and AdamW unless
// a gradient overflowed, update the scale; optim's doc). Nothing else is
// read back from the device: the clipping norm stays a device tensor
// (dropped unread), the loss is read only by lastLoss; fp16's Unscale reads
// its found-inf flag, as torch's scaler.step does.
func (r *runner) step() error {
	loss, err := r.loss(r.in, r.labels)
	if err != nil {
		return err
	}
	if r.last != nil {
		r.last.MustDrop()
	}
	r.last = loss
	scaled, err := r.scaler.Scale(loss)
	if err != nil {
		return err
	}
	err = scaled.Backward()
	scaled.MustDrop()
	if err != nil {
		return fmt.Errorf("backward: %w", err)
	}
	norm, _, err := r.opt.Update(r.scaler, ClipNorm, r.o.LR)
	if err != nil {
		return err
	}
	if norm != nil {
		return norm.Drop()
	}
	return nil
}

// capture records one training step as a CUDA graph, torch's
// whole-network capture: on a side stream, two eager warmup steps (lazy
// initialisation, cuBLAS workspaces), then the captured step. The step
// reads nothing back and keeps every input at a fixed address (the batch
// is built once, the AdamW step counts are device tensors, the gradients
// exist from the warmup and are accumulated into in place), which is what
// a graph needs. Replays update the parameters and r.last, the captured
// loss.
func (r *runner) capture() (g *bbshim.Graph, err error) {
	if !bbshim.HasGraphs() { // run has refused a non-CUDA device
		return nil, errors.New("CUDA graphs are not compiled into bbshim (needs a CUDA libtorch and the CUDA runtime headers at setup: set $CUDA_HOME and run go run ./examples/setup)")
	}
	if impl := r.opt.Implementation(); impl != optim.ImplFused {
		return nil, fmt.Errorf("needs the fused AdamW, have %s (libtorch >= 2.0)", impl)
	}
	if g, err = bbshim.NewGraph(r.o.Device.Value); err != nil {
		return nil, err
	}
	err = g.Capture(func() error {
		for i := 0; i < 2; i++ {
			if err := r.step(); err != nil {
				return fmt.Errorf("side-stream warmup step %d: %w", i+1, err)
			}
		}
		if r.last != nil { // freed before capture, not during it
			r.last.MustDrop()
			r.last = nil
		}
		return nil
	}, r.step)
	if err != nil {
		g.Free()
		return nil, err
	}
	return g, nil
}

// sync waits for the device's queued kernels (CUDA); a no-op on the CPU.
func (r *runner) sync() error {
	if !r.o.Device.IsCuda() {
		return nil
	}
	if err := ts.CudaSynchronize(r.o.Device.Value); err != nil {
		return fmt.Errorf("bench: cuda synchronize: %w", err)
	}
	return nil
}

// lastLoss reads the last step's loss (null when not finite or no step ran).
func (r *runner) lastLoss() (*float64, error) {
	if r.last == nil {
		return nil, nil
	}
	v, err := r.last.Float64Value([]int64{})
	if err != nil {
		return nil, fmt.Errorf("bench: read loss: %w", err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil, nil
	}
	return ptr(round(v, 4)), nil
}

// close drops everything the runner created: loss, batch, optimizer state
// and the model's parameters (with their gradients).
func (r *runner) close() {
	for _, t := range []*ts.Tensor{r.last, r.in.InputIDs, r.in.AttentionMask, r.in.TokenTypeIDs, r.labels, r.pos} {
		if t != nil {
			t.MustDrop()
		}
	}
	r.last, r.in, r.labels, r.pos = nil, bert.Inputs{}, nil, nil
	if r.opt != nil {
		r.opt.Close()
		r.opt = nil
	}
	if r.vs != nil {
		r.vs.Destroy()
		r.vs = nil
	}
}

// hardwareName is the model name of the processor behind d (the GPU's or
// the CPU's), for reports.
func hardwareName(d gotch.Device) string {
	if d.IsCuda() {
		return gpuName(d.Value)
	}
	return cpuName()
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func ptr[T any](v T) *T { return &v }
