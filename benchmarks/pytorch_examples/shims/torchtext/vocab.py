from collections import Counter


class Vocab:
    def __init__(self, itos):
        self.itos, self.stoi, self.default = itos, {w: i for i, w in enumerate(itos)}, None

    def set_default_index(self, i):
        self.default = i

    def __len__(self):
        return len(self.itos)

    def __call__(self, tokens):
        return [self.stoi.get(t, self.default) for t in tokens]

    def lookup_tokens(self, ids):
        return [self.itos[i] for i in ids]


def build_vocab_from_iterator(iterator, min_freq=1, specials=(), special_first=True):
    counts = Counter(t for tokens in iterator for t in tokens)
    words = sorted((w for w, c in counts.items() if c >= min_freq and w not in specials), key=lambda w: (-counts[w], w))
    return Vocab([*specials, *words] if special_first else [*words, *specials])
