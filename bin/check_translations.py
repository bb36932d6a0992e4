"""Fail when the French catalogue misses a string or is not compiled.

Usage: python bin/check_translations.py locale/fr/LC_MESSAGES/django.po
Checks that every entry is translated and not fuzzy, and that the compiled .mo beside the
.po holds exactly the .po's translations.
"""

import ast
import gettext
import re
import sys
from pathlib import Path


def entries(po_text):
    """Yield (msgid, msgid_plural, [msgstr...], flags) for each entry of a .po file."""
    for block in po_text.strip().split("\n\n"):
        fields, flags, current = {}, set(), None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags |= {f.strip() for f in line[2:].split(",")}
                continue
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid_plural|msgid|msgstr(?:\[\d\])?)\s+(".*")$', line)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if "msgid" in fields and fields["msgid"]:
            strs = [v for k, v in sorted(fields.items()) if k.startswith("msgstr")]
            yield fields["msgid"], fields.get("msgid_plural"), strs, flags


def main(po_path):
    po_path = Path(po_path)
    problems = []
    items = list(entries(po_path.read_text(encoding="utf-8")))
    for msgid, _plural, strs, flags in items:
        if "fuzzy" in flags:
            problems.append(f"fuzzy: {msgid!r}")
        if not strs or not all(strs):
            problems.append(f"untranslated: {msgid!r}")
    with open(po_path.with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for msgid, plural, strs, _flags in items:
        if plural:
            if compiled.ngettext(msgid, plural, 1) != strs[0]:
                problems.append(f"not compiled: {msgid!r}")
        elif compiled.gettext(msgid) != strs[0]:
            problems.append(f"not compiled: {msgid!r}")
    for line in problems:
        print(line)
    print(f"{len(items)} strings, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
