package tokenize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/biobertpt-go/biobertpt/internal/atomicfile"
)

// hfConfig is the subset of tokenizer_config.json the tokenizer uses.
type hfConfig struct {
	DoLowerCase          *bool  `json:"do_lower_case,omitempty"`
	StripAccents         *bool  `json:"strip_accents"`
	TokenizeChineseChars *bool  `json:"tokenize_chinese_chars,omitempty"`
	ModelMaxLength       *int64 `json:"model_max_length,omitempty"`
	UnkToken             any    `json:"unk_token,omitempty"`
	SepToken             any    `json:"sep_token,omitempty"`
	PadToken             any    `json:"pad_token,omitempty"`
	ClsToken             any    `json:"cls_token,omitempty"`
	MaskToken            any    `json:"mask_token,omitempty"`
	TokenizerClass       string `json:"tokenizer_class,omitempty"`
	// AdditionalSpecialTokens are never split by HF; only checked to be
	// empty or among the five special tokens (checkAddedTokens).
	AdditionalSpecialTokens []any `json:"additional_special_tokens,omitempty"`
}

// tokenString reads a special token written as a string or as an
// AddedToken object {"content": ...}.
func tokenString(v any, def string) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if c, ok := x["content"].(string); ok {
			return c
		}
	}
	return def
}

func (c *hfConfig) apply(o *Options) {
	if c.DoLowerCase != nil {
		o.Lowercase = *c.DoLowerCase
	}
	o.StripAccents = c.StripAccents
	if c.TokenizeChineseChars != nil {
		o.TokenizeChinese = *c.TokenizeChineseChars
	}
	// HF writes a huge sentinel (1e30) when the length is unknown.
	if c.ModelMaxLength != nil && *c.ModelMaxLength >= 2 && *c.ModelMaxLength <= 1<<20 {
		o.MaxLen = int(*c.ModelMaxLength)
	}
	o.UnkToken = tokenString(c.UnkToken, o.UnkToken)
	o.SepToken = tokenString(c.SepToken, o.SepToken)
	o.PadToken = tokenString(c.PadToken, o.PadToken)
	o.ClsToken = tokenString(c.ClsToken, o.ClsToken)
	o.MaskToken = tokenString(c.MaskToken, o.MaskToken)
}

// tokenizerJSON is the subset of HF's tokenizer.json for a BERT WordPiece tokenizer.
type tokenizerJSON struct {
	Version     string            `json:"version"`
	Truncation  any               `json:"truncation"`
	Padding     any               `json:"padding"`
	AddedTokens []addedToken      `json:"added_tokens"`
	Normalizer  *bertNormalizer   `json:"normalizer"`
	PreTok      map[string]any    `json:"pre_tokenizer"`
	PostProc    json.RawMessage   `json:"post_processor"`
	Decoder     map[string]any    `json:"decoder"`
	Model       wordPieceModelDoc `json:"model"`
}

type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	Lstrip     bool   `json:"lstrip"`
	Rstrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type bertNormalizer struct {
	Type               string `json:"type"`
	CleanText          bool   `json:"clean_text"`
	HandleChineseChars bool   `json:"handle_chinese_chars"`
	StripAccents       *bool  `json:"strip_accents"`
	Lowercase          bool   `json:"lowercase"`
}

type wordPieceModelDoc struct {
	Type                    string         `json:"type"`
	UnkToken                string         `json:"unk_token"`
	ContinuingSubwordPrefix string         `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    int            `json:"max_input_chars_per_word"`
	Vocab                   map[string]int `json:"vocab"`
}

// LoadTokenizerJSON reads a HF tokenizer.json of a BERT WordPiece
// tokenizer (BertNormalizer, BertPreTokenizer, WordPiece with "##").
// Anything else is an error naming the file and the field.
func LoadTokenizerJSON(path string) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenize: read tokenizer.json: %w", err)
	}
	var doc tokenizerJSON
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &doc); err != nil {
		return nil, fmt.Errorf("tokenize: %s: %w", path, err)
	}
	m := doc.Model
	if m.Type != "WordPiece" {
		return nil, fmt.Errorf("tokenize: %s: model.type %q, want WordPiece", path, m.Type)
	}
	if m.ContinuingSubwordPrefix != "" && m.ContinuingSubwordPrefix != contPrefix {
		return nil, fmt.Errorf("tokenize: %s: model.continuing_subword_prefix %q, want %q", path, m.ContinuingSubwordPrefix, contPrefix)
	}
	if len(m.Vocab) == 0 {
		return nil, fmt.Errorf("tokenize: %s: model.vocab is empty", path)
	}
	o := DefaultOptions()
	if n := doc.Normalizer; n != nil {
		if n.Type != "BertNormalizer" {
			return nil, fmt.Errorf("tokenize: %s: normalizer.type %q, want BertNormalizer", path, n.Type)
		}
		if !n.CleanText {
			return nil, fmt.Errorf("tokenize: %s: normalizer.clean_text false is not supported", path)
		}
		o.Lowercase, o.StripAccents, o.TokenizeChinese = n.Lowercase, n.StripAccents, n.HandleChineseChars
	}
	if doc.PreTok != nil && doc.PreTok["type"] != "BertPreTokenizer" {
		return nil, fmt.Errorf("tokenize: %s: pre_tokenizer.type %v, want BertPreTokenizer", path, doc.PreTok["type"])
	}
	if m.MaxInputCharsPerWord > 0 {
		o.MaxCharsPerWord = m.MaxInputCharsPerWord
	}
	if m.UnkToken != "" {
		o.UnkToken = m.UnkToken
	}
	tokens := make([]string, len(m.Vocab))
	seen := make([]bool, len(m.Vocab))
	for tok, id := range m.Vocab {
		if id < 0 || id >= len(tokens) || seen[id] {
			return nil, fmt.Errorf("tokenize: %s: model.vocab id %d of %q is out of range or repeated (ids must be 0..%d)", path, id, tok, len(tokens)-1)
		}
		tokens[id], seen[id] = tok, true
	}
	// A tokenizer_config.json beside it supplies model_max_length and token names.
	if cfg, err := readConfig(filepath.Join(filepath.Dir(path), "tokenizer_config.json")); err != nil {
		return nil, err
	} else if cfg != nil {
		lo, sa, ch := o.Lowercase, o.StripAccents, o.TokenizeChinese
		cfg.apply(&o)
		o.Lowercase, o.StripAccents, o.TokenizeChinese = lo, sa, ch // tokenizer.json wins, as in HF
		if err := checkAdditionalSpecials(cfg, o, filepath.Join(filepath.Dir(path), "tokenizer_config.json")); err != nil {
			return nil, err
		}
	}
	for i, a := range doc.AddedTokens {
		if a.ID < 0 || a.ID >= len(tokens) || tokens[a.ID] != a.Content {
			return nil, fmt.Errorf("tokenize: %s: added_tokens[%d] %q (id %d) is not in model.vocab with that id: tokens added to a WordPiece vocabulary are not supported", path, i, a.Content, a.ID)
		}
		if !isSpecialName(o, a.Content) {
			return nil, fmt.Errorf("tokenize: %s: added_tokens[%d] %q: only the special tokens (%s) are supported as added tokens (HF never splits an added token, this tokenizer would)", path, i, a.Content, strings.Join(specialNames(o), " "))
		}
	}
	return New(tokens, o, path)
}

// specialNames lists o's five special tokens.
func specialNames(o Options) []string {
	return []string{o.UnkToken, o.SepToken, o.PadToken, o.ClsToken, o.MaskToken}
}

func isSpecialName(o Options, s string) bool {
	for _, n := range specialNames(o) {
		if s == n {
			return true
		}
	}
	return false
}

// checkAdditionalSpecials refuses tokenizer_config.json's
// additional_special_tokens other than o's five special tokens: HF keeps
// them whole, this tokenizer would split them.
func checkAdditionalSpecials(c *hfConfig, o Options, path string) error {
	for i, v := range c.AdditionalSpecialTokens {
		if tok := tokenString(v, ""); !isSpecialName(o, tok) {
			return fmt.Errorf("tokenize: %s: additional_special_tokens[%d] %q: only the special tokens (%s) are supported (HF never splits an additional special token, this tokenizer would)", path, i, tok, strings.Join(specialNames(o), " "))
		}
	}
	return nil
}

// checkAddedTokensFile refuses an added_tokens.json (written by HF's slow
// tokenizers beside vocab.txt) that adds anything but o's special tokens at
// their vocab.txt ids; a missing file is fine.
func checkAddedTokensFile(path string, tokens []string, o Options) error {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tokenize: read added tokens: %w", err)
	}
	var added map[string]int
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &added); err != nil {
		return fmt.Errorf("tokenize: %s: %w", path, err)
	}
	names := make([]string, 0, len(added))
	for tok := range added {
		names = append(names, tok)
	}
	sort.Strings(names)
	for _, tok := range names {
		id := added[tok]
		if id < 0 || id >= len(tokens) || tokens[id] != tok || !isSpecialName(o, tok) {
			return fmt.Errorf("tokenize: %s: added token %q (id %d): only the special tokens at their vocab.txt ids are supported (HF never splits an added token, this tokenizer would)", path, tok, id)
		}
	}
	return nil
}

func readConfig(path string) (*hfConfig, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tokenize: read config: %w", err)
	}
	var c hfConfig
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &c); err != nil {
		return nil, fmt.Errorf("tokenize: %s: %w", path, err)
	}
	return &c, nil
}

// Load reads a tokenizer directory: vocab.txt (+ tokenizer_config.json:
// do_lower_case, strip_accents, tokenize_chinese_chars, model_max_length,
// special token names) or, without vocab.txt, tokenizer.json. Without a
// tokenizer_config.json the options are DefaultOptions() (cased; note that
// HF's BertTokenizer would default to do_lower_case=True). vocab.txt is
// read by ReadVocab (any line ends, a byte order mark dropped); the JSON
// files may start with a byte order mark too. Tokens that HF would keep
// whole and this tokenizer would split are refused, naming the file and
// the token: added tokens (added_tokens.json, tokenizer.json's
// added_tokens) and additional_special_tokens other than the five special
// tokens.
func Load(dir string) (*Tokenizer, error) {
	vp := filepath.Join(dir, "vocab.txt")
	if !fileExists(vp) {
		jp := filepath.Join(dir, "tokenizer.json")
		if fileExists(jp) {
			return LoadTokenizerJSON(jp)
		}
		return nil, fmt.Errorf("tokenize: load %s: %w", dir, errNoVocab)
	}
	o := DefaultOptions()
	cfg, err := readConfig(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		cfg.apply(&o)
		if err := checkAdditionalSpecials(cfg, o, filepath.Join(dir, "tokenizer_config.json")); err != nil {
			return nil, err
		}
	}
	tokens, err := ReadVocab(vp)
	if err != nil {
		return nil, err
	}
	if err := checkAddedTokensFile(filepath.Join(dir, "added_tokens.json"), tokens, o); err != nil {
		return nil, err
	}
	return New(tokens, o, vp)
}

// Save writes vocab.txt, tokenizer_config.json, special_tokens_map.json and
// tokenizer.json into dir (created if needed), readable by HF's
// BertTokenizerFast.from_pretrained and by Load. Each file is written to a
// temporary name and renamed.
func (t *Tokenizer) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tokenize: save: %w", err)
	}
	o := t.opts
	var vb strings.Builder
	for id := range t.voc.size() {
		vb.WriteString(t.voc.token(int32(id)))
		vb.WriteByte('\n')
	}
	specials := map[string]string{"unk_token": o.UnkToken, "sep_token": o.SepToken, "pad_token": o.PadToken, "cls_token": o.ClsToken, "mask_token": o.MaskToken}
	cfg := map[string]any{
		"do_lower_case": o.Lowercase, "strip_accents": o.StripAccents, "tokenize_chinese_chars": o.TokenizeChinese,
		"model_max_length": o.MaxLen, "tokenizer_class": "BertTokenizer", "clean_up_tokenization_spaces": true,
	}
	for k, v := range specials {
		cfg[k] = v
	}
	doc := t.tokenizerJSON()
	files := []struct {
		name string
		v    any
	}{{"tokenizer_config.json", cfg}, {"special_tokens_map.json", specials}, {"tokenizer.json", doc}}
	if err := writeAtomic(filepath.Join(dir, "vocab.txt"), []byte(vb.String())); err != nil {
		return err
	}
	for _, f := range files {
		data, err := json.MarshalIndent(f.v, "", "  ")
		if err != nil {
			return fmt.Errorf("tokenize: save %s: %w", f.name, err)
		}
		if err := writeAtomic(filepath.Join(dir, f.name), append(data, '\n')); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tokenizer) tokenizerJSON() map[string]any {
	o := t.opts
	var added []addedToken
	for i, s := range t.specials {
		added = append(added, addedToken{ID: int(t.specialIDs[i]), Content: s, Special: true})
	}
	sort.Slice(added, func(i, j int) bool { return added[i].ID < added[j].ID })
	vocab := make(map[string]int, t.voc.size())
	for id := range t.voc.size() { // a token listed twice keeps its last id
		vocab[t.voc.token(int32(id))] = id
	}
	st := func(tok string, typ int) map[string]any {
		return map[string]any{"SpecialToken": map[string]any{"id": tok, "type_id": typ}}
	}
	sq := func(id string, typ int) map[string]any {
		return map[string]any{"Sequence": map[string]any{"id": id, "type_id": typ}}
	}
	return map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": added,
		"normalizer":    bertNormalizer{Type: "BertNormalizer", CleanText: true, HandleChineseChars: o.TokenizeChinese, StripAccents: o.StripAccents, Lowercase: o.Lowercase},
		"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
		"post_processor": map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{st(o.ClsToken, 0), sq("A", 0), st(o.SepToken, 0)},
			"pair":   []any{st(o.ClsToken, 0), sq("A", 0), st(o.SepToken, 0), sq("B", 1), st(o.SepToken, 1)},
			"special_tokens": map[string]any{
				o.ClsToken: map[string]any{"id": o.ClsToken, "ids": []int{int(t.cls)}, "tokens": []string{o.ClsToken}},
				o.SepToken: map[string]any{"id": o.SepToken, "ids": []int{int(t.sep)}, "tokens": []string{o.SepToken}},
			},
		},
		"decoder": map[string]any{"type": "WordPiece", "prefix": contPrefix, "cleanup": true},
		"model": wordPieceModelDoc{Type: "WordPiece", UnkToken: o.UnkToken, ContinuingSubwordPrefix: contPrefix,
			MaxInputCharsPerWord: o.MaxCharsPerWord, Vocab: vocab},
	}
}

func writeAtomic(path string, data []byte) error {
	if err := atomicfile.WriteBytes(path, data); err != nil {
		return fmt.Errorf("tokenize: save: %w", err)
	}
	return nil
}
