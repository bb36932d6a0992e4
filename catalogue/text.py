"""Text folding shared by search and the copy guard."""

import unicodedata


def fold(text):
    """Lower-case, strip accents and ligatures, so "Œuvre" and "oeuvre" compare equal."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()
