package dist

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Env is where this process stands in a distributed run, as its launcher
// described it in the environment.
type Env struct {
	Rank      int // 0 … WorldSize-1; rank 0 hosts the rendezvous and writes
	WorldSize int // number of processes; 1 = not distributed
	LocalRank int // rank on this machine: the CUDA device index of an NCCL rank
	// MasterAddr and MasterPort are rank 0's TCPStore (MASTER_ADDR,
	// MASTER_PORT).
	MasterAddr string
	MasterPort int
	// Source names the variables read: "torchrun" (RANK and WORLD_SIZE, as
	// torchrun, a Kubernetes PyTorchJob and biobertpt launch set them),
	// "slurm" (SLURM_PROCID and SLURM_NTASKS) or "" (neither: one process).
	Source string
	// AgentStore is true when the launcher's agent hosts the TCPStore
	// (torchrun's static rendezvous: TORCHELASTIC_USE_AGENT_STORE=True):
	// then rank 0 connects to it like the others instead of hosting it,
	// and every key goes under StorePrefix ("/worker/attempt_N", N =
	// TORCHELASTIC_RESTART_COUNT), as torch's env:// rendezvous does.
	AgentStore  bool
	StorePrefix string
}

// Single is the environment of a run in one process.
func Single() Env { return Env{WorldSize: 1} }

// Distributed reports whether more than one process takes part.
func (e Env) Distributed() bool { return e.WorldSize > 1 }

func (e Env) String() string {
	if !e.Distributed() {
		return "one process"
	}
	return fmt.Sprintf("rank %d of %d (local rank %d, rendezvous %s:%d, from %s variables)",
		e.Rank, e.WorldSize, e.LocalRank, e.MasterAddr, e.MasterPort, e.Source)
}

// DefaultMasterPort is torch's: the port when neither MASTER_PORT nor a
// Slurm job id gives one.
const DefaultMasterPort = 29500

// EnvFromOS is EnvFrom(os.Getenv).
func EnvFromOS() (Env, error) { return EnvFrom(os.Getenv) }

// EnvFrom reads the launcher's variables through getenv, in this order:
//
//   - RANK and WORLD_SIZE (torchrun, a Kubernetes PyTorchJob, biobertpt
//     launch): LOCAL_RANK (default 0), MASTER_ADDR and MASTER_PORT, both
//     required when WORLD_SIZE > 1, and torchrun's agent store
//     (Env.AgentStore). WORLD_SIZE=1 forces one process, whatever Slurm
//     says.
//   - Else SLURM_PROCID and SLURM_NTASKS (srun): the world size is
//     SLURM_STEP_NUM_TASKS when set (the tasks of this srun step), else
//     SLURM_NTASKS; the local rank SLURM_LOCALID. MASTER_ADDR when set,
//     else the first host of SLURM_STEP_NODELIST, SLURM_JOB_NODELIST or
//     SLURM_NODELIST ("gpu[07-10],cpu3" → "gpu07"); MASTER_PORT when set,
//     else 15000 + SLURM_JOB_ID mod 10000 (the same on every task of a
//     job, different for most concurrent jobs), else DefaultMasterPort.
//     In a batch script outside srun, Slurm's variables describe the
//     whole allocation: start the command with srun, or set WORLD_SIZE=1.
//   - Else one process (Single).
//
// A malformed or inconsistent value is an error naming the variable.
func EnvFrom(getenv func(string) string) (Env, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	num := func(k string, def int) (int, error) {
		v := get(k)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("dist: %s=%q is not an integer", k, v)
		}
		return n, nil
	}
	var e Env
	var err error
	switch {
	case get("RANK") != "" || get("WORLD_SIZE") != "":
		e.Source = "torchrun"
		if get("RANK") == "" || get("WORLD_SIZE") == "" {
			return Env{}, fmt.Errorf("dist: RANK=%q and WORLD_SIZE=%q: set both or neither", get("RANK"), get("WORLD_SIZE"))
		}
		if e.Rank, err = num("RANK", 0); err != nil {
			return Env{}, err
		}
		if e.WorldSize, err = num("WORLD_SIZE", 1); err != nil {
			return Env{}, err
		}
		if e.LocalRank, err = num("LOCAL_RANK", 0); err != nil {
			return Env{}, err
		}
		e.MasterAddr = get("MASTER_ADDR")
		if e.MasterPort, err = num("MASTER_PORT", 0); err != nil {
			return Env{}, err
		}
		if e.WorldSize > 1 && (e.MasterAddr == "" || e.MasterPort == 0) {
			return Env{}, fmt.Errorf("dist: WORLD_SIZE=%d needs MASTER_ADDR and MASTER_PORT (rank 0's address and a free port)", e.WorldSize)
		}
		if get("TORCHELASTIC_USE_AGENT_STORE") == "True" {
			attempt, err := num("TORCHELASTIC_RESTART_COUNT", 0)
			if err != nil {
				return Env{}, err
			}
			e.AgentStore, e.StorePrefix = true, fmt.Sprintf("/worker/attempt_%d", attempt)
		}
	case get("SLURM_PROCID") != "" && get("SLURM_NTASKS") != "":
		e.Source = "slurm"
		if e.Rank, err = num("SLURM_PROCID", 0); err != nil {
			return Env{}, err
		}
		key := "SLURM_NTASKS"
		if get("SLURM_STEP_NUM_TASKS") != "" {
			key = "SLURM_STEP_NUM_TASKS"
		}
		if e.WorldSize, err = num(key, 1); err != nil {
			return Env{}, err
		}
		if e.LocalRank, err = num("SLURM_LOCALID", 0); err != nil {
			return Env{}, err
		}
		e.MasterAddr = get("MASTER_ADDR")
		for _, k := range []string{"SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST"} {
			if e.MasterAddr != "" {
				break
			}
			if v := get(k); v != "" {
				if e.MasterAddr, err = FirstHost(v); err != nil {
					return Env{}, fmt.Errorf("dist: %s: %w", k, err)
				}
			}
		}
		if e.MasterPort, err = num("MASTER_PORT", 0); err != nil {
			return Env{}, err
		}
		if e.MasterPort == 0 {
			e.MasterPort = DefaultMasterPort
			if id := get("SLURM_JOB_ID"); id != "" {
				n, err := strconv.ParseUint(id, 10, 64)
				if err != nil {
					return Env{}, fmt.Errorf("dist: SLURM_JOB_ID=%q is not an integer", id)
				}
				e.MasterPort = 15000 + int(n%10000)
			}
		}
		if e.WorldSize > 1 && e.MasterAddr == "" {
			return Env{}, fmt.Errorf("dist: Slurm world size %d: no MASTER_ADDR and no SLURM_JOB_NODELIST to take rank 0's host from", e.WorldSize)
		}
	default:
		return Single(), nil
	}
	if e.WorldSize < 1 {
		return Env{}, fmt.Errorf("dist: world size %d (from %s variables) must be at least 1", e.WorldSize, e.Source)
	}
	if e.Rank < 0 || e.Rank >= e.WorldSize {
		return Env{}, fmt.Errorf("dist: rank %d out of range for world size %d (from %s variables)", e.Rank, e.WorldSize, e.Source)
	}
	if e.LocalRank < 0 {
		return Env{}, fmt.Errorf("dist: local rank %d is negative", e.LocalRank)
	}
	if e.WorldSize > 1 && (e.MasterPort < 1 || e.MasterPort > 65535) {
		return Env{}, fmt.Errorf("dist: master port %d out of range 1-65535", e.MasterPort)
	}
	if e.WorldSize == 1 {
		return Env{WorldSize: 1, Source: e.Source, MasterAddr: e.MasterAddr, MasterPort: e.MasterPort}, nil
	}
	return e, nil
}

// FirstHost returns the first host of a Slurm node list: "node[01-04,07]"
// → "node01", "a[1-2]-b[3-4],c" → "a1-b3", "host" → "host".
func FirstHost(nodelist string) (string, error) {
	s := strings.TrimSpace(nodelist)
	if s == "" {
		return "", fmt.Errorf("empty node list")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return "", fmt.Errorf("node list %q: '[' without ']'", nodelist)
			}
			first := s[i+1 : i+end]
			if strings.IndexByte(first, '[') >= 0 {
				return "", fmt.Errorf("node list %q: nested '['", nodelist)
			}
			if k := strings.IndexAny(first, ",-"); k >= 0 {
				first = first[:k]
			}
			if first == "" {
				return "", fmt.Errorf("node list %q: empty range", nodelist)
			}
			b.WriteString(first)
			i += end
		case c == ']':
			return "", fmt.Errorf("node list %q: ']' without '['", nodelist)
		case c == ',':
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
