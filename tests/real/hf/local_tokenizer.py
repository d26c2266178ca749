"""A word-level tokenizer built from the training texts themselves (nothing from the hub),
wrapped as a ``PreTrainedTokenizerFast`` so scripts use it exactly like a downloaded one."""

from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tokenizer(texts):
    words = sorted({w for t in texts for w in t.lower().split()})
    vocab = {tok: i for i, tok in enumerate(SPECIALS + words)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


TEXTS = [
    "the movie was great and the actors were wonderful",
    "a terrible film with a boring plot",
    "an average story , nothing special but fine",
    "i loved every minute of this wonderful film",
    "the worst acting i have seen in years",
    "it was okay , some parts good some parts bad",
    "brilliant direction and a moving score",
    "dull , slow and far too long",
]
LABELS = [2, 0, 1, 2, 0, 1, 2, 0]
