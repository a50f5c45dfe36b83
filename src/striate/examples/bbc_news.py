"""BBC News topics (5 classes): a CNN over word embeddings (Kim 2014) and an LSTM, compared.

    python -m striate.examples.bbc_news             # or: striate example bbc_news

Words are indexed by frequency in the training articles (20,000 at most; 0 pads, 1 is an unknown word).
The CNN reads each article's first 400 words: convolutions 3, 4 and 5 words wide, each max-pooled over
the whole text ("max-over-time"), concatenated, dropout, softmax. The LSTM reads the first 150 words,
with the padding masked (Embedding(mask_zero=True)). Held-out: 445 articles of the seeded split in
striate.datasets.bbc_news.
"""

import sys

import striate
from striate import layers as L
from striate.datasets import bbc_news
from striate.examples import run_main, standard_parser, train_classifier


def kim_cnn(vocabulary_size, length, embedding_size=64, filters=64, widths=(3, 4, 5)):
    """Kim (2014): parallel 1D convolutions of several widths over the word vectors, max over time."""
    words = striate.Input((length,))
    vectors = L.Embedding(vocabulary_size, embedding_size)(words)
    pooled = [L.GlobalMaxPooling1D()(L.Conv1D(filters, width, activation="relu")(vectors)) for width in widths]
    features = L.Dropout(0.5)(L.Concatenate()(pooled))
    return striate.Model(words, L.Dense(len(bbc_news.TOPICS), activation="softmax")(features))


def lstm(vocabulary_size, length, embedding_size=64, units=64):
    return striate.Sequential([
        L.Embedding(vocabulary_size, embedding_size, mask_zero=True, input_shape=(length,)),
        L.LSTM(units),
        L.Dropout(0.3),
        L.Dense(len(bbc_news.TOPICS), activation="softmax"),
    ])


def run(epochs=6, seed=0, quick=False, verbose=1):
    """Train both models; returns their held-out accuracies and training seconds."""
    (texts_train, y_train), (texts_test, y_test) = bbc_news.load_data()
    if quick:
        texts_train, y_train, texts_test, y_test = texts_train[::6], y_train[::6], texts_test[::3], y_test[::3]
    vocabulary = bbc_news.build_vocabulary(texts_train, max_words=20000)
    size = len(vocabulary) + 2
    results = {"train_articles": len(texts_train), "test_articles": len(texts_test), "vocabulary": size}
    lengths = {"cnn": 200 if quick else 400, "lstm": 60 if quick else 150}
    for name, make, rate in (("cnn", kim_cnn, 0.002), ("lstm", lstm, 0.005)):
        length = lengths[name]
        x_train = bbc_news.encode(texts_train, vocabulary, length)
        x_test = bbc_news.encode(texts_test, vocabulary, length)
        striate.set_random_seed(seed)
        accuracy, seconds = train_classifier(make(size, length), rate, (x_train, y_train), (x_test, y_test), epochs,
                                             verbose)
        results[f"{name}_test_accuracy"], results[f"{name}_seconds"] = accuracy, seconds
    return results


def main(argv=None):
    return run_main(standard_parser("bbc_news", epochs=6), run, argv)


if __name__ == "__main__":
    sys.exit(main())
