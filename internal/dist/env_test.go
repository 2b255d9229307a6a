package dist

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnvFrom(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]string
		want Env
		err  string
	}{
		{"nothing set: one process", nil, Env{WorldSize: 1}, ""},
		{"torchrun", map[string]string{"RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1", "MASTER_ADDR": "node01", "MASTER_PORT": "29500"},
			Env{Rank: 3, WorldSize: 8, LocalRank: 1, MasterAddr: "node01", MasterPort: 29500, Source: "torchrun"}, ""},
		{"PyTorchJob without LOCAL_RANK", map[string]string{"RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "job-master-0", "MASTER_PORT": "23456"},
			Env{Rank: 1, WorldSize: 2, MasterAddr: "job-master-0", MasterPort: 23456, Source: "torchrun"}, ""},
		{"WORLD_SIZE=1 wins over Slurm", map[string]string{"RANK": "0", "WORLD_SIZE": "1", "SLURM_PROCID": "0", "SLURM_NTASKS": "4"},
			Env{WorldSize: 1, Source: "torchrun"}, ""},
		{"torchrun static rendezvous: the agent hosts the store", map[string]string{"RANK": "0", "WORLD_SIZE": "4", "LOCAL_RANK": "0", "MASTER_ADDR": "h", "MASTER_PORT": "29400",
			"TORCHELASTIC_USE_AGENT_STORE": "True", "TORCHELASTIC_RESTART_COUNT": "2"},
			Env{WorldSize: 4, MasterAddr: "h", MasterPort: 29400, Source: "torchrun", AgentStore: true, StorePrefix: "/worker/attempt_2"}, ""},
		{"agent store flag False", map[string]string{"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "1", "TORCHELASTIC_USE_AGENT_STORE": "False"},
			Env{WorldSize: 2, MasterAddr: "h", MasterPort: 1, Source: "torchrun"}, ""},
		{"torchrun without master", map[string]string{"RANK": "0", "WORLD_SIZE": "2"}, Env{}, "needs MASTER_ADDR and MASTER_PORT"},
		{"rank without world", map[string]string{"RANK": "0"}, Env{}, "set both or neither"},
		{"rank out of range", map[string]string{"RANK": "2", "WORLD_SIZE": "2", "MASTER_ADDR": "a", "MASTER_PORT": "1"}, Env{}, "rank 2 out of range for world size 2"},
		{"bad integer", map[string]string{"RANK": "x", "WORLD_SIZE": "2"}, Env{}, `RANK="x" is not an integer`},
		{"bad port", map[string]string{"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "a", "MASTER_PORT": "70000"}, Env{}, "master port 70000 out of range"},
		{"zero world", map[string]string{"RANK": "0", "WORLD_SIZE": "0"}, Env{}, "world size 0"},
		{"slurm srun", map[string]string{"SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1", "SLURM_JOB_NODELIST": "gpu[07-10],cpu3", "SLURM_JOB_ID": "123456"},
			Env{Rank: 5, WorldSize: 8, LocalRank: 1, MasterAddr: "gpu07", MasterPort: 15000 + 3456, Source: "slurm"}, ""},
		{"slurm step tasks and explicit master", map[string]string{"SLURM_PROCID": "1", "SLURM_NTASKS": "8", "SLURM_STEP_NUM_TASKS": "2", "SLURM_STEP_NODELIST": "a1", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "4000"},
			Env{Rank: 1, WorldSize: 2, MasterAddr: "10.0.0.1", MasterPort: 4000, Source: "slurm"}, ""},
		{"slurm without job id", map[string]string{"SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_NODELIST": "n1"},
			Env{WorldSize: 2, MasterAddr: "n1", MasterPort: DefaultMasterPort, Source: "slurm"}, ""},
		{"slurm one task", map[string]string{"SLURM_PROCID": "0", "SLURM_NTASKS": "1"}, Env{WorldSize: 1, MasterPort: DefaultMasterPort, Source: "slurm"}, ""},
		{"slurm without node list", map[string]string{"SLURM_PROCID": "0", "SLURM_NTASKS": "2"}, Env{}, "no MASTER_ADDR and no SLURM_JOB_NODELIST"},
		{"slurm bad node list", map[string]string{"SLURM_PROCID": "0", "SLURM_NTASKS": "2", "SLURM_JOB_NODELIST": "n[1-2"}, Env{}, "SLURM_JOB_NODELIST"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EnvFrom(func(k string) string { return tc.vars[k] })
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestFirstHost(t *testing.T) {
	cases := []struct{ in, want, err string }{
		{"node01", "node01", ""},
		{"node[01-04,07]", "node01", ""},
		{"gpu[7,9-10],cpu3", "gpu7", ""},
		{"a[1-2]-b[3-4],c", "a1-b3", ""},
		{"host1,host2", "host1", ""},
		{" n[003] ", "n003", ""},
		{"", "", "empty node list"},
		{"n[1-2", "", "'[' without ']'"},
		{"n]1", "", "']' without '['"},
		{"n[]", "", "empty range"},
	}
	for _, c := range cases {
		got, err := FirstHost(c.in)
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, c.in)
			continue
		}
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestEnvString(t *testing.T) {
	assert.Equal(t, "one process", Single().String())
	e := Env{Rank: 1, WorldSize: 2, MasterAddr: "127.0.0.1", MasterPort: 5, Source: "torchrun"}
	assert.Equal(t, "rank 1 of 2 (local rank 0, rendezvous 127.0.0.1:5, from torchrun variables)", e.String())
}
