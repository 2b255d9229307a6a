package dist

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// launchOpts runs scenario sc of this test binary as n ranks.
func launchOpts(sc string, n int, out *syncBuffer, sigs chan os.Signal) LaunchOptions {
	o := DefaultLaunchOptions()
	o.NProc = n
	o.Command = []string{os.Args[0], "-test.run=^$"}
	env := []string{childVar + "=" + sc}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OMP_NUM_THREADS=") {
			env = append(env, kv)
		}
	}
	o.Env = env
	o.Stdout, o.Stderr = out, out
	o.Signals = sigs
	o.KillGrace = 2 * time.Second
	return o
}

func TestLaunchEnvironmentAndPrefixes(t *testing.T) {
	var out syncBuffer
	require.NoError(t, Launch(context.Background(), launchOpts("echo", 2, &out, make(chan os.Signal))))
	s := out.String()
	for _, r := range []string{"0", "1"} {
		re := regexp.MustCompile(`(?m)^\[rank ` + r + `\] env RANK=` + r + ` WORLD_SIZE=2 LOCAL_RANK=` + r + ` MASTER_ADDR=127\.0\.0\.1 MASTER_PORT=(\d+) OMP_NUM_THREADS=\d+$`)
		m := re.FindStringSubmatch(s)
		require.NotNil(t, m, s)
		assert.NotEqual(t, "0", m[1])
		assert.Contains(t, s, "[rank "+r+"] to stderr from "+r+"\n")
		assert.Contains(t, s, "[rank "+r+"] progress 1\r")
		assert.Contains(t, s, "[rank "+r+"] done\n")
		assert.Contains(t, s, "[rank "+r+"] no newline at the end\n")
	}
	// Both ranks were told the same port.
	ports := regexp.MustCompile(`MASTER_PORT=(\d+)`).FindAllStringSubmatch(s, -1)
	require.Len(t, ports, 2)
	assert.Equal(t, ports[0][1], ports[1][1])
}

func TestLaunchFailingRankStopsTheOthers(t *testing.T) {
	var out syncBuffer
	t0 := time.Now()
	err := Launch(context.Background(), launchOpts("fail", 2, &out, make(chan os.Signal)))
	var re *RankError
	require.True(t, errors.As(err, &re), "%v\n%s", err, out.String())
	assert.Equal(t, 1, re.Rank)
	assert.Equal(t, 3, re.ExitCode)
	assert.Nil(t, re.After)
	assert.Contains(t, err.Error(), "dist: launch: rank 1 (pid ")
	assert.Contains(t, err.Error(), "exited with status 3")
	// rank 0 sleeps a minute unless stopped
	assert.Less(t, time.Since(t0), 30*time.Second)
	assert.Contains(t, out.String(), "[rank 1] rank 1 fails\n")
}

func TestLaunchForwardsSignals(t *testing.T) {
	var out syncBuffer
	sigs := make(chan os.Signal, 1)
	errc := make(chan error, 1)
	go func() { errc <- Launch(context.Background(), launchOpts("trap", 2, &out, sigs)) }()
	waitFor(t, func() bool { return out.Contains("[rank 0] ready") && out.Contains("[rank 1] ready") }, errc)
	sigs <- os.Interrupt
	select {
	case err := <-errc:
		require.NoError(t, err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("launch did not return after the signal\n%s", out.String())
	}
	assert.Contains(t, out.String(), "[rank 0] got interrupt")
	assert.Contains(t, out.String(), "[rank 1] got interrupt")
}

func TestLaunchKillsRanksThatIgnoreTheStop(t *testing.T) {
	var out syncBuffer
	sigs := make(chan os.Signal, 1)
	o := launchOpts("stubborn", 2, &out, sigs)
	o.KillGrace = 300 * time.Millisecond
	errc := make(chan error, 1)
	go func() { errc <- Launch(context.Background(), o) }()
	waitFor(t, func() bool { return out.Contains("[rank 0] ready") && out.Contains("[rank 1] ready") }, errc)
	sigs <- syscall.SIGTERM
	select {
	case err := <-errc:
		var re *RankError
		require.True(t, errors.As(err, &re), "%v", err)
		assert.Equal(t, "killed", re.Signal)
		assert.Equal(t, syscall.SIGTERM, re.After)
		assert.Contains(t, err.Error(), "was killed by signal killed after terminated was forwarded")
	case <-time.After(30 * time.Second):
		t.Fatalf("launch did not kill the ranks\n%s", out.String())
	}
}

func TestLaunchContextCancelStopsRanks(t *testing.T) {
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- Launch(ctx, launchOpts("trap", 2, &out, make(chan os.Signal))) }()
	waitFor(t, func() bool { return out.Contains("[rank 0] ready") && out.Contains("[rank 1] ready") }, errc)
	cancel()
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(30 * time.Second):
		t.Fatal("launch did not return after cancel")
	}
	assert.Contains(t, out.String(), "[rank 1] got terminated")
}

func TestLaunchStartFailure(t *testing.T) {
	o := DefaultLaunchOptions()
	o.NProc = 2
	o.Command = []string{"/nonexistent/biobertpt-rank"}
	o.Signals = make(chan os.Signal)
	err := Launch(context.Background(), o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dist: launch: start rank 0 (/nonexistent/biobertpt-rank)")
}

func TestLaunchOptionsValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*LaunchOptions)
		want string
	}{
		{"nproc", func(o *LaunchOptions) { o.NProc = 0 }, "NProc 0"},
		{"command", func(o *LaunchOptions) { o.Command = nil }, "Command is empty"},
		{"port", func(o *LaunchOptions) { o.MasterPort = 70000 }, "MasterPort 70000"},
		{"grace", func(o *LaunchOptions) { o.KillGrace = 0 }, "KillGrace 0s"},
		{"addr", func(o *LaunchOptions) { o.MasterAddr = "" }, "MasterAddr is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultLaunchOptions()
			o.Command = []string{"true"}
			tc.edit(&o)
			assert.ErrorContains(t, o.Validate(), tc.want)
		})
	}
}

func TestRankEnvReplacesInheritedVariables(t *testing.T) {
	env := rankEnv([]string{"PATH=/bin", "RANK=7", "MASTER_PORT=1", "OMP_NUM_THREADS=3"}, 1, 2, "127.0.0.1", 4242, "")
	assert.Equal(t, []string{"PATH=/bin", "OMP_NUM_THREADS=3", "RANK=1", "LOCAL_RANK=1", "GROUP_RANK=0", "WORLD_SIZE=2", "LOCAL_WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=4242"}, env)
	env = rankEnv([]string{"PATH=/bin"}, 0, 2, "127.0.0.1", 4242, "1")
	assert.Contains(t, env, "OMP_NUM_THREADS=1")
}

// waitFor polls cond until it holds, failing when launch returns first or
// after a minute.
func waitFor(t *testing.T, cond func() bool, errc chan error) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		select {
		case err := <-errc:
			t.Fatalf("launch returned early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in a minute")
		}
	}
}
