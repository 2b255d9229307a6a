package tokenize_test

import (
	"fmt"
	"path/filepath"

	"github.com/biobertpt-go/biobertpt/tokenize"
)

func ExampleTokenizer_Encode() {
	tk, err := tokenize.LoadVocabFile(filepath.Join("testdata", "mbert-cased", "vocab.txt"), tokenize.DefaultOptions())
	if err != nil {
		panic(err)
	}
	e, _ := tk.Encode("Dor torácica há 2 dias.")
	fmt.Println(e.Tokens)
	fmt.Println(e.Offsets)
	// Output:
	// [[CLS] Dor to ##rá ##ci ##ca há 2 dias . [SEP]]
	// [[0 0] [0 3] [4 6] [6 8] [8 10] [10 12] [13 15] [16 17] [18 22] [22 23] [0 0]]
}

func ExampleAlignLabels() {
	// words "Dor torácica": label 1 and 2; sub-tokens [CLS] Dor to ##rá ##ci ##ca [SEP]
	fmt.Println(tokenize.AlignLabels([]int{-1, 0, 1, 1, 1, 1, -1}, []int{1, 2}, false))
	// Output: [-100 1 2 -100 -100 -100 -100]
}

func ExampleSplitSentences() {
	text := "Avaliado pelo Dr. Silva. Creatinina 1,8 mg/dL."
	for _, s := range tokenize.SplitSentences(text) {
		fmt.Println(text[s.ByteStart:s.ByteEnd])
	}
	// Output:
	// Avaliado pelo Dr. Silva.
	// Creatinina 1,8 mg/dL.
}
