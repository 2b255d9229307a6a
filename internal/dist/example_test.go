package dist_test

import (
	"fmt"

	"github.com/biobertpt-go/biobertpt/internal/dist"
)

// Slurm's variables of task 5 of an 8-task step on nodes gpu07 … gpu10.
func ExampleEnvFrom() {
	vars := map[string]string{"SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1",
		"SLURM_JOB_NODELIST": "gpu[07-10]", "SLURM_JOB_ID": "123456"}
	env, err := dist.EnvFrom(func(k string) string { return vars[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(env)
	// Output: rank 5 of 8 (local rank 1, rendezvous gpu07:18456, from slurm variables)
}

// Two ranks share an epoch of 5 examples: the order is padded with its
// first example so that both take 3.
func ExampleShard() {
	order := []int{4, 0, 3, 1, 2}
	fmt.Println(dist.Shard(order, 0, 2, false), dist.Shard(order, 1, 2, false))
	fmt.Println(dist.Shard(order, 0, 2, true), dist.Shard(order, 1, 2, true))
	// Output:
	// [4 3 2] [0 1 4]
	// [4 3] [0 1]
}

// Evaluation shards are contiguous and cover every example once.
func ExampleEvalRange() {
	for r := range 3 {
		lo, hi := dist.EvalRange(10, r, 3)
		fmt.Print(lo, "-", hi, " ")
	}
	fmt.Println()
	// Output: 0-3 3-6 6-10
}
