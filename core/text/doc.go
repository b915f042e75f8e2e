// Package text prepares Chinese clinical text for the models without ever losing track of
// where each character came from: normalisation with an offset map back to the caller's
// original string, a sentence splitter that bounds the length the taggers see, and the
// character vocabulary that turns runes into model ids.
//
// # Offsets
//
// Every span in this package is a half-open interval [start, end): end is exclusive. Span
// positions are rune (Unicode code point) indices unless a name says Bytes, in which case
// they are UTF-8 byte offsets into the original Go string, so original[start:end] is the
// text of the span.
//
// # Normalisation
//
// [Normalize] maps every original rune to at most one normalised rune: a rune is either
// replaced by exactly one rune or deleted, never expanded and never merged with a
// neighbour. Only whitespace handling ([WhitespaceCollapse], [WhitespaceRemove]) and newline
// unification (the '\r' of "\r\n") delete runes. Because of that, each normalised rune has
// exactly one original rune, and a normalised span [s, e) maps back to the original span
// that starts at the original of rune s and ends just after the original of rune e-1. Runes
// deleted inside the span are covered by it; deleted runes before s or after e-1 are not, so
// a span that begins or ends next to collapsed whitespace maps to exactly the characters it
// contains and never picks up or drops a character that survived normalisation. An empty
// span [s, s) maps to the empty span at the original of rune s (at the end of the original
// when s is the normalised length).
//
// The steps below run in this order on each rune; each is switched on by a field of
// [Options], and the zero Options leaves the text unchanged.
//
// FoldWidth (width folding):
//
//	U+FF01–U+FF5E  ！…～ fullwidth ASCII  → U+0021–U+007E (ＡＢ１２（）％ → AB12()%)
//	U+3000         ideographic space     → ' '
//	U+FF61–U+FF65  ｡｢｣､･ halfwidth       → 。「」、・ (then UnifyPunct may map them further)
//	U+FFE0–U+FFE6  ￠￡￢￣￤￥￦           → ¢£¬¯¦¥₩
//
// UnifyPunct (one canonical rune per punctuation class; ASCII wherever ASCII has the
// class, because width folding already sends the fullwidth forms there, and a CJK form only
// for classes ASCII lacks). Fullwidth punctuation of U+FF01–U+FF5E is folded to ASCII by this
// step too, so it works without FoldWidth.
//
//	"  “ ” „ ‟ « » 〝 〞 〟 「 」 『 』 ﹁ ﹂ ﹃ ﹄ ″ ＂
//	'  ‘ ’ ‚ ‛ ‹ › ′ ＇
//	-  ‐ ‑ ‒ – — ― − ⁃ ⸺ ⸻ ﹘ ﹣ －
//	~  ～ 〜 〰 ∼ ⁓ ˜
//	·  ・ ･ ‧ • ∙ ⋅              (U+00B7 MIDDLE DOT: name separator, no ASCII form)
//	( )  （ ） ﹙ ﹚
//	[ ]  ［ ］ 【 】 〔 〕 〖 〗 ﹝ ﹞
//	{ }  ｛ ｝ ﹛ ﹜
//	< >  ＜ ＞ ﹤ ﹥              (comparison only; 《》〈〉 title marks are kept)
//	,  ， ﹐ ︐     .  ． ﹒     :  ： ﹕ ︓ ∶     ;  ； ﹔ ︔     !  ！ ﹗ ︕     ?  ？ ﹖ ︖
//	。 ｡ ︒        、 ､ ﹑       (sentence full stop and enumeration comma have no ASCII form;
//	                              。 is never mapped to '.', which marks decimals)
//	' '  U+00A0, U+1680, U+2000–U+200A, U+202F, U+205F, U+3000 (other space separators)
//
// Lower: unicode.ToLower on every rune (Go's simple case mapping is rune to rune, so this
// keeps the one-to-one rule; Ａ→A→a under FoldWidth+Lower).
//
// UnifyNewlines: the '\r' of "\r\n" is deleted; a lone '\r', U+0085, U+2028 and U+2029
// become '\n'.
//
// Whitespace (runes for which unicode.IsSpace is true): [WhitespaceKeep] keeps them,
// [WhitespaceRemove] deletes them all (newlines included), and [WhitespaceCollapse] replaces
// each maximal run by one rune: '\n' if the run contains a line break ('\n', '\r', U+0085,
// U+2028, U+2029) and ' ' otherwise, so sentence splitting still sees line ends. The kept
// rune stands for the run's first line break (the '\n' of a "\r\n") or, in a run without
// one, for its first rune; the rest of the run is deleted.
//
// Combining marks, emoji and other astral runes pass through untouched: composing them
// (NFC/NFKC) would merge runes and break the one-to-one rule.
//
// # Sentences
//
// [SplitSentences] cuts rune slices into contiguous pieces that concatenate to the input:
// after sentence-final punctuation and line breaks, then, for pieces longer than the model
// limit, after pause punctuation, and finally by a hard cut.
//
// # Vocabulary
//
// [Vocab] is a character vocabulary over normalised text: the specials [PAD]=0 [UNK]=1
// [CLS]=2 [SEP]=3 [MASK]=4, then [NUM]=5 when DigitClass is set in [VocabOptions], then one
// token per rune in order of decreasing frequency, ties by increasing code point. Latin
// letters are ordinary single-rune tokens (lower-cased by normalisation, not by the
// vocabulary); digits are their own tokens unless DigitClass maps them all to [NUM]. Its
// text form ([Vocab.Save]) and [Vocab.Hash] identify it in model bundles.
package text
