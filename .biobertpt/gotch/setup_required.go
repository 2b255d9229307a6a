// Package gotch is a placeholder until setup fills this directory with the
// patched gotch for this machine's libtorch. Run, in the module root:
//
//	go run github.com/biobertpt-go/biobertpt/examples/setup -module .
//
// A build before that fails with "undefined: run_setup_first__go_run_github_com_biobertpt_go_biobertpt_examples_setup".
package gotch

var _ = run_setup_first__go_run_github_com_biobertpt_go_biobertpt_examples_setup
