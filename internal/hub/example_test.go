package hub_test

import (
	"context"
	"fmt"
	"os"

	"github.com/biobertpt-go/biobertpt/internal/hub"
)

func ExampleParseRepoID() {
	repo, rev, err := hub.ParseRepoID("pucpr/biobertpt-clin@main")
	fmt.Println(repo, rev, err)
	fmt.Println(hub.RepoFolderName(repo))
	// Output:
	// pucpr/biobertpt-clin main <nil>
	// models--pucpr--biobertpt-clin
}

func ExampleResolve() {
	// A local directory is used as it is; a Hub id such as
	// "pucpr/biobertpt-clin" would be downloaded into the HF cache.
	dir, _ := os.MkdirTemp("", "model")
	defer os.RemoveAll(dir)
	got, err := hub.Resolve(context.Background(), dir, hub.Options{})
	fmt.Println(got == dir, err)
	// Output: true <nil>
}
