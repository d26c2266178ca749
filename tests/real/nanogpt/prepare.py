"""Prepare a character-level dataset the way nanoGPT's data/shakespeare_char/prepare.py
does: train.bin / val.bin as uint16 token ids and meta.pkl with vocab_size, stoi, itos.
Usage: python prepare.py OUT_DIR [TEXT_FILE] (without a file: a fixed local text)."""

import os
import pickle
import sys

import numpy as np

TEXT = (
    "First Citizen: Before we proceed any further, hear me speak.\n"
    "All: Speak, speak.\n"
    "First Citizen: You are all resolved rather to die than to famish?\n"
    "All: Resolved. resolved.\n"
    "First Citizen: First, you know Caius Marcius is chief enemy to the people.\n"
) * 20


def prepare(out_dir, text=TEXT):
    os.makedirs(out_dir, exist_ok=True)
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    ids = np.array([stoi[c] for c in text], dtype=np.uint16)
    n = int(0.9 * len(ids))
    ids[:n].tofile(os.path.join(out_dir, "train.bin"))
    ids[n:].tofile(os.path.join(out_dir, "val.bin"))
    with open(os.path.join(out_dir, "meta.pkl"), "wb") as f:
        pickle.dump({"vocab_size": len(chars), "itos": itos, "stoi": stoi}, f)
    return len(chars)


if __name__ == "__main__":
    text = open(sys.argv[2]).read() if len(sys.argv) > 2 else TEXT
    print(f"vocab size {prepare(sys.argv[1], text)}")
