"""When two model names are the same name: the key that near-duplicates share.

Names themselves are ASCII (validators.MODEL_NAME_RE). Two names are the same name when
their keys are equal, and the database keeps keys unique (RegisteredModel.name_key), so
concurrent registrations cannot race past the check. The key of a name is, in order:

1. Unicode NFKC (fullwidth and other compatibility forms become their plain letters),
   then format characters (category Cf: zero-width spaces and joiners, direction
   marks, soft hyphens) removed;
2. case folded, then decomposed (NFD) with combining marks removed, then every
   character replaced by the prototype it is confusable with in Unicode's confusables
   table (UTS #39, through the confusable_homoglyphs package): Cyrillic "а" is "a",
   "0" is "o", "1" is "l", "m" is "rn"; repeated once, case folded again;
3. every run of characters that are not letters or digits (".", "_", "-", spaces, any
   punctuation) becomes one "-", and any at either end is dropped.

So "xss-probe", "xss-probe.", "XSS_Probe", "xss‐probe" (U+2010), "ｘｓｓ-probe" and
"xss\u200b-probe" are one name, as are "fraud-scorer" with a Cyrillic "а" and the Latin one.
"""

import functools
import unicodedata

# The package's table wraps right-to-left characters in direction marks; they are no
# part of the character.
_DIRECTION_MARKS = str.maketrans("", "", "\u200e\u200f")


@functools.cache
def _prototypes() -> dict[str, str]:
    """Each confusable character -> the string that stands for its whole class.

    The package lists, for every character, the characters confusable with it in both
    directions of Unicode's one-way table: a character mapped to a prototype lists just
    that prototype, a prototype lists everything mapped to it. Pairs with one member
    each way get the smaller of the two as their prototype.
    """
    # Imported here: the package reads its 900 kB table on import, which only the first
    # name check of a process needs.
    from confusable_homoglyphs.confusables import confusables_data

    neighbours: dict[str, list[str]] = {}
    for char, entries in confusables_data.items():
        neighbours.setdefault(char.translate(_DIRECTION_MARKS), []).extend(
            entry["c"].translate(_DIRECTION_MARKS) for entry in entries
        )
    table = {}
    for char, others in neighbours.items():
        if len(char) != 1 or len(others) != 1:
            continue  # a prototype (or a multi-character sequence) stands for itself
        other = others[0]
        if len(other) > 1 or len(neighbours.get(other, ())) > 1:
            table[char] = other
        else:
            table[char] = min(char, other)
    return table


def _skeleton(text: str) -> str:
    table = _prototypes()
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return "".join(table.get(c, c) for c in text)


def name_key(name: str) -> str:
    """The key near-duplicate names share (see the module docstring)."""
    text = unicodedata.normalize("NFKC", name)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")
    text = _skeleton(_skeleton(text)).casefold()
    words, word = [], []
    for char in text:
        if char.isalnum():
            word.append(char)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return "-".join(words)


def name_clash_message(name: str, existing: str) -> str:
    """What to tell someone whose `name` collides with the model named `existing`."""
    if name.lower() == existing.lower():
        return f"A model named {existing!r} already exists (names ignore case)."
    return (
        f"{name!r} is too close to the existing model {existing!r}: names that differ only "
        "in case, look-alike characters, or punctuation and separators are the same name."
    )
