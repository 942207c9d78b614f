"""Logic of the `{{name}}` scanner, kept apart from the bindings so plain Python can test it."""

# What this scanner blocks: (rule, needle).
NEEDLES = [("private-key", "BEGIN PRIVATE KEY"), ("password", "password=")]


def find(text: str) -> list:
    """The (rule, needle) pairs whose needle occurs in `text`."""
    return [(rule, needle) for rule, needle in NEEDLES if needle in text]
