// gen_fixtures.js writes ../hf_fixtures.json: the ids, tokens, offsets and word
// ids that HuggingFace's Rust tokenizer (npm "tokenizers" 0.23.2, the engine of
// BertTokenizerFast) produces for sentences.txt and seeded random strings, with
// mBERT's cased vocabulary, cased and uncased. Not run by tests.
//
//   cd /tmp/hfref && npm install tokenizers@0.23.2
//   NODE_PATH=/tmp/hfref/node_modules node gen_fixtures.js ../mbert-cased/vocab.txt > ../hf_fixtures.json
//
// The tokenizer is built the way transformers' BertConverter builds
// BertTokenizerFast from vocab.txt: BertNormalizer(clean_text, handle_chinese_chars,
// strip_accents=None, lowercase), BertPreTokenizer, WordPiece("[UNK]", "##", 100),
// TemplateProcessing [CLS] $A [SEP] / [CLS] $A [SEP] $B:1 [SEP]:1, and the five
// special tokens as added tokens with normalized=false.
const fs = require('fs');
const path = require('path');
const {Tokenizer} = require('tokenizers');
const version = require('tokenizers/package.json').version;

function build(vocabPath, lower) {
  const lines = fs.readFileSync(vocabPath, 'utf8').replace(/\n$/, '').split('\n');
  const vocab = {};
  lines.forEach((t, i) => { vocab[t] = i; }); // last line wins, as transformers' load_vocab
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const added = specials.map(s => ({id: vocab[s], content: s, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true}));
  added.sort((a, b) => a.id - b.id);
  const st = (id, t) => ({SpecialToken: {id, type_id: t}}), sq = (id, t) => ({Sequence: {id, type_id: t}});
  const j = {version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: {type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: lower},
    pre_tokenizer: {type: 'BertPreTokenizer'},
    post_processor: {type: 'TemplateProcessing', single: [st('[CLS]', 0), sq('A', 0), st('[SEP]', 0)],
      pair: [st('[CLS]', 0), sq('A', 0), st('[SEP]', 0), sq('B', 1), st('[SEP]', 1)],
      special_tokens: {'[CLS]': {id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]']}, '[SEP]': {id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]']}}},
    decoder: {type: 'WordPiece', prefix: '##', cleanup: true},
    model: {type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab}};
  return Tokenizer.fromString(JSON.stringify(j));
}

function unescape(s) {
  return s.replace(/\\u([0-9a-fA-F]{4})/g, (m, h) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\t/g, '\t').replace(/\\n/g, '\n').replace(/\\r/g, '\r');
}

// mulberry32: a tiny seeded PRNG so the random strings are reproducible.
function rng(seed) {
  return () => { seed |= 0; seed = seed + 0x6D2B79F5 | 0; let t = Math.imul(seed ^ seed >>> 15, 1 | seed);
    t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t; return ((t ^ t >>> 14) >>> 0) / 4294967296; };
}
const pool = [...'abcdeçãõáéíóúâêôàüñßİIiAEÇÃ0123456789 ,.;:-/()[]%°µ²'].concat(
  ['\u00a0', '\u2028', '\t', '\n', '\u0096', '\u200b', '\u0301', '\u0327', '😀', '👍🏽', '头', '山', '𠀀', '–', '“', '”', '…', '[MASK]', '[SEP]', '[CLS]', '\ufffd', '\u0000', 'ﬁ', 'Ⅳ', 'ǅ', 'Σ', 'ς', 'ﬀ', '\ue000', '\u0378', '\u2e52', '\u1ac1']);

function enc(e) {
  return {ids: e.getIds(), tokens: e.getTokens(), offsets: e.getOffsets(), word_ids: e.getWordIds().map(w => w == null ? -1 : w),
    type_ids: e.getTypeIds(), special_tokens_mask: e.getSpecialTokensMask()};
}

// encWords emulates encode(words, {isPretokenized: true}) (is_split_into_words=True),
// which the node binding 0.23.2 rejects ("StringExpected"): the Rust
// encode_single_sequence tokenizes each word on its own with word index i and
// merges the results, so each word is encoded alone (no special tokens), its
// tokens get word id i, offsets stay relative to the word, and [CLS]/[SEP]
// (ids from the vocab, offsets [0,0]) are added around.
async function encWords(tk, words) {
  const cls = tk.tokenToId('[CLS]'), sep = tk.tokenToId('[SEP]');
  const o = {ids: [cls], tokens: ['[CLS]'], offsets: [[0, 0]], word_ids: [-1], type_ids: [0], special_tokens_mask: [1]};
  for (let i = 0; i < words.length; i++) {
    const e = await tk.encode(words[i], null, {addSpecialTokens: false});
    o.ids.push(...e.getIds()); o.tokens.push(...e.getTokens()); o.offsets.push(...e.getOffsets());
    for (const _ of e.getIds()) { o.word_ids.push(i); o.type_ids.push(0); o.special_tokens_mask.push(0); }
  }
  o.ids.push(sep); o.tokens.push('[SEP]'); o.offsets.push([0, 0]); o.word_ids.push(-1); o.type_ids.push(0); o.special_tokens_mask.push(1);
  return o;
}

(async () => {
  const vocabPath = process.argv[2];
  const cased = build(vocabPath, false), uncased = build(vocabPath, true);
  const texts = fs.readFileSync(path.join(__dirname, 'sentences.txt'), 'utf8').replace(/\n$/, '').split('\n').map(unescape);
  const r = rng(42);
  for (let i = 0; i < 120; i++) {
    const n = 1 + Math.floor(r() * 25);
    let s = '';
    for (let k = 0; k < n; k++) s += pool[Math.floor(r() * pool.length)];
    texts.push(s);
  }
  const out = {generator: `npm tokenizers@${version} (huggingface/tokenizers Rust, as BertTokenizerFast), vocab mbert-cased/vocab.txt; testdata/gen/gen_fixtures.js`,
    texts: [], pairs: [], words: []};
  for (const t of texts) {
    out.texts.push({text: t, cased: enc(await cased.encode(t)), uncased: enc(await uncased.encode(t))});
  }
  for (let i = 0; i + 1 < texts.length && out.pairs.length < 40; i += 6) {
    const a = texts[i], b = texts[i + 1];
    out.pairs.push({a, b, cased: enc(await cased.encode(a, b)), uncased: enc(await uncased.encode(a, b))});
  }
  for (const t of texts) {
    const words = t.split(' ');
    out.words.push({words, cased: await encWords(cased, words), uncased: await encWords(uncased, words)});
  }
  process.stdout.write(JSON.stringify(out) + '\n');
})();
