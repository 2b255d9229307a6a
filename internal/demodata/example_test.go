package demodata_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/demodata"
)

func ExampleNERFS() {
	names, _ := fs.Glob(demodata.NERFS(), "*.tsv")
	fmt.Println(len(names), "files, first", names[0])
	b, _ := fs.ReadFile(demodata.NERFS(), names[0])
	first, _, _ := strings.Cut(string(b), "\n")
	fmt.Printf("%q\n", first)
	// Output:
	// 96 files, first doc01.tsv
	// "Resumo\tNOUN\tresumo\tO"
}

func ExampleVocab() {
	sc := bufio.NewScanner(bytes.NewReader(demodata.Vocab()))
	id := 0
	for sc.Scan() {
		if id == demodata.UnkID || id == demodata.MaskID {
			fmt.Println(id, sc.Text())
		}
		id++
	}
	// Output:
	// 100 [UNK]
	// 103 [MASK]
}
