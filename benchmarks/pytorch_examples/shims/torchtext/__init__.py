"""torchtext stand-in for the corpus (language_translation): a whitespace tokenizer, a vocab,
and a synthetic Multi30k of (German-like, English-like) sentence pairs. torchtext is retired
and its wheels do not load against the pinned torch."""
