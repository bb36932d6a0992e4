"""Text folding shared by search and the copy guard, and the word analysis of search.

Search sees a text as a sequence of folded words (lower case, no accents, letters and digits
only). SQLite indexes their French Snowball stems; PostgreSQL receives the same folded words
and stems them with its own French configuration (the same Snowball algorithm and stop
words), so both databases cut and compare words alike.
"""

import functools
import re
import threading
import unicodedata

import snowballstemmer


def fold(text):
    """Lower-case, strip accents and ligatures, so "Œuvre" and "oeuvre" compare equal."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


# PostgreSQL's French stop words (tsearch_data/french.stop, from the Snowball project): the
# words its `french` configuration leaves out. Folded words are compared with them as
# PostgreSQL does, so the accented ones (« été ») never match a folded word on either side.
STOPWORDS = frozenset(
    """au aux avec ce ces dans de des du elle en et eux il je la le leur lui ma mais me même
    mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes
    toi ton tu un une vos votre vous c d j l à m n s t y été étée étées étés étant étante
    étants étantes suis es est sommes êtes sont serai seras sera serons serez seront serais
    serait serions seriez seraient étais était étions étiez étaient fus fut fûmes fûtes
    furent sois soit soyons soyez soient fusse fusses fût fussions fussiez fussent ayant
    ayante ayantes ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez
    auront aurais aurait aurions auriez auraient avais avait avions aviez avaient eut eûmes
    eûtes eurent aie aies ait ayons ayez aient eusse eusses eût eussions eussiez
    eussent""".split()
)
# Elided words that stick to the next one (« l'Inkub », « d'Aubusson »): joined with it, they
# give the spelling people type without the apostrophe (« linkub »).
ELISIONS = frozenset("c d j l m n s t qu".split())
# Plurals in -x that the Snowball algorithm keeps apart from their singular.
_PLURALS = (("lieux", "lieu"), ("jeux", "jeu"), ("feux", "feu"), ("voeux", "voeu"))
_WORD = re.compile(r"[a-z0-9]+")

# Snowball's Python stemmers keep the word being stemmed in the stemmer: one per thread.
_stemmers = threading.local()


def normalize(word):
    """A folded word with the plurals Snowball misses made singular (« tiers-lieux »)."""
    for plural, singular in _PLURALS:
        if word.endswith(plural):
            return word[: -len(plural)] + singular
    return word


def words(text):
    """The folded, normalised words of ``text``, stop words included, in order."""
    return [normalize(word) for word in _WORD.findall(fold(text or ""))]


@functools.lru_cache(maxsize=200_000)
def stem(word):
    """The French Snowball stem of a folded word."""
    stemmer = getattr(_stemmers, "french", None)
    if stemmer is None:
        stemmer = _stemmers.french = snowballstemmer.stemmer("french")
    return stemmer.stemWord(word)


def joinable(first, second, elisions=True):
    """Whether two neighbouring words may be written as one (« fab lab » / « fablab »)."""
    if second in STOPWORDS or len(second) < 2:
        return False
    return (elisions and first in ELISIONS) or (first not in STOPWORDS and len(first) > 1)


# What separates two words that can still be read as one (spaces, hyphens, apostrophes);
# any other punctuation ends a run of words.
_RUN_BREAK = re.compile(r"[^\w\s'’-]+|\n")


def compounds(text, elisions=True):
    """Each pair of neighbouring words written as one word: « Eco-Domaine » gives
    « ecodomaine », « tiers lieux » gives « tierslieu », « L'Inkub » gives « linkub ».
    Words on either side of other punctuation (« Nevers — Tiers ») are not paired."""
    found = []
    for run in _RUN_BREAK.split(text or ""):
        sequence = words(run)
        found += [
            normalize(first + second)
            for first, second in zip(sequence, sequence[1:], strict=False)
            if joinable(first, second, elisions)
        ]
    return found


def trigrams(word):
    """The trigrams PostgreSQL's pg_trgm takes from one folded word (two spaces before it,
    one after), so that `similarity` below gives the same number as pg_trgm's."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def similarity(first, second):
    """pg_trgm's similarity of two folded words: shared trigrams over all trigrams."""
    a, b = trigrams(first), trigrams(second)
    return len(a & b) / len(a | b) if a and b else 0.0
