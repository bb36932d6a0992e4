"""Guard against prose copied from the source documents.

Facts carry over from the sources, sentences do not: a narrative text may not share a run of
RUN_LENGTH consecutive words with a source document. Words are compared case- and
accent-insensitively, with punctuation and the PDF's line breaks ignored. Text between
« » or “ ” quotes is left out, so short quoted names and titles stay allowed.

Run as ``python -m catalogue.prose FILE.yaml ...`` to check corpus files while writing them.

The source documents are not part of the repository (only what we wrote is): their text is
read from the folder named by INNOVPLACES_SOURCE_TEXTS, by default ``../shared/seeds/``
beside the checkout.
"""

import os
import re
import sys
from functools import cache
from pathlib import Path

from catalogue.text import fold

RUN_LENGTH = 12
SOURCE_TEXTS = Path(
    os.environ.get(
        "INNOVPLACES_SOURCE_TEXTS",
        Path(__file__).resolve().parent.parent.parent / "shared" / "seeds",
    )
)


def source_texts_available(directory=SOURCE_TEXTS):
    return any(Path(directory).glob("*.txt"))


_QUOTED = re.compile(r"«[^»]*»|“[^”]*”")
# A word cut by a hyphen at the end of a PDF line: "clus-\nters".
_LINE_HYPHEN = re.compile(r"(\w)-\s*\n\s*(\w)")
_WORD = re.compile(r"[a-z0-9]+")


def words(text, *, drop_quotes=False):
    if drop_quotes:
        text = _QUOTED.sub(" ", text)
    return _WORD.findall(fold(text))


def runs(word_list, n=RUN_LENGTH):
    return {tuple(word_list[i : i + n]) for i in range(len(word_list) - n + 1)}


@cache
def source_runs(directory=SOURCE_TEXTS):
    """Every run of RUN_LENGTH words in the source texts, with hyphenated breaks read both ways."""
    found = set()
    for path in sorted(Path(directory).glob("*.txt")):
        raw = path.read_text(encoding="utf-8", errors="replace")
        found |= runs(words(raw))
        found |= runs(words(_LINE_HYPHEN.sub(r"\1\2", raw)))
    return frozenset(found)


def copied_runs(text, directory=SOURCE_TEXTS):
    """Return the runs of ``text`` (as strings) that also stand in a source document."""
    known = source_runs(directory)
    return sorted(" ".join(r) for r in runs(words(text, drop_quotes=True)) if r in known)


def strings_in(data, path=""):
    """Yield (path, string) for every string in a nested YAML structure."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from strings_in(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from strings_in(value, f"{path}[{index}]")


def main(argv):
    import yaml

    if not source_texts_available():
        print(
            f"No source texts in {SOURCE_TEXTS}: set INNOVPLACES_SOURCE_TEXTS to the folder "
            "holding the documents' text files. Nothing was checked."
        )
        return 2
    problems = 0
    for name in argv:
        data = yaml.safe_load(Path(name).read_text(encoding="utf-8"))
        for where, text in strings_in(data):
            for run in copied_runs(text):
                problems += 1
                print(f"{name}: {where}: copied run: {run}")
    print(f"{problems} copied run(s) found")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
