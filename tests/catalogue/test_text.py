import sys
import threading

import snowballstemmer

from catalogue import text

# Words with long, different endings, so that a stemmer shared between threads would mix
# one word's suffix into another's.
WORDS = [
    "coopératives",
    "mutualisation",
    "accompagnements",
    "territoriales",
    "innovations",
    "entreprenariat",
    "incubatrices",
    "fabrications",
    "numériquement",
    "collectivement",
]


def test_threads_stem_words_as_one_thread_does():
    """Threaded workers stem search words at the same time: each must get its own word's
    stem (Snowball's Python stemmer keeps the word it works on)."""
    expected = {word: snowballstemmer.stemmer("french").stemWord(word) for word in WORDS}
    stem = text.stem.__wrapped__  # past the cache, to the stemmer itself
    wrong = []

    def work(offset):
        for turn in range(300):
            word = WORDS[(offset + turn) % len(WORDS)]
            if stem(word) != expected[word]:
                wrong.append(word)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []
