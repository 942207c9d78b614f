"""Logic of the `{{name}}` agent, kept apart from the bindings so plain Python can test it."""


def answer(text: str, history: int) -> str:
    """The reply to `text` after `history` earlier turns."""
    return f"You said: {text} ({history} earlier turns)"
