# biobertpt-go — the two commands of the README are `make demo` and `make test`.
GO ?= go

.PHONY: setup build demo test test-short bench fmt vet clean

## setup: find libtorch (installing Debian's libtorch-dev when needed), prepare the patched gotch, compile it once
setup:
	$(GO) run ./examples/setup

## build: the biobertpt command-line program into bin/
build: setup
	$(GO) build -o bin/biobertpt ./examples/biobertpt

## demo: the main job on small embedded data (pretrain a tiny BERT, fine-tune NER, report, tag), CPU
demo: setup
	$(GO) run ./examples/quickstart

## test: every unit test (CPU), after setup
test: setup
	$(GO) vet ./...
	$(GO) test -timeout 20m ./...

test-short: setup
	$(GO) test -short ./...

## bench: Go benchmarks of the CPU-side hot paths
bench: setup
	$(GO) test -run '^$$' -bench . -benchtime 2x ./tokenize ./metrics ./pretrain ./internal/optim ./examples/internal/bench

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
