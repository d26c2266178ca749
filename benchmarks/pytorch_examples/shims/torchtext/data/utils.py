def get_tokenizer(kind, language=None):
    """Any tokenizer ("spacy", "basic_english"): whitespace split of the synthetic sentences."""
    return str.split
