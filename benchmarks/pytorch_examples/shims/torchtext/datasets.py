"""Multi30k stand-in: sentences of 4-12 words over a 300-word source vocabulary, each translated
word by word through a fixed dictionary, with adjective-noun pairs swapped (so the decoder
needs the source context, not only the position)."""

import random
import types

multi30k = types.SimpleNamespace(URL={})
SIZES = {"train": 2000, "valid": 200, "test": 200}


def _pairs(split, seed):
    rng = random.Random(seed)
    nouns = [f"n{i}" for i in range(150)]
    adjectives = [f"a{i}" for i in range(75)]
    others = [f"w{i}" for i in range(75)]
    translate = {w: ("E" + w) for w in nouns + adjectives + others}
    out = []
    for _ in range(SIZES[split]):
        src, tgt = [], []
        while len(src) < rng.randint(4, 12):
            if rng.random() < 0.3:
                a, n = rng.choice(adjectives), rng.choice(nouns)
                src += [a, n]
                tgt += [translate[n], translate[a]]
            else:
                w = rng.choice(nouns + others)
                src.append(w)
                tgt.append(translate[w])
        out.append((" ".join(src) + "\n", " ".join(tgt) + "\n"))
    return out


def Multi30k(split="train", language_pair=("de", "en")):
    pairs = _pairs(split, {"train": 0, "valid": 1, "test": 2}[split])
    return pairs if language_pair[0] == "de" else [(t, s) for s, t in pairs]
