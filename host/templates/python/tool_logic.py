"""Logic of the `{{name}}` tool, kept apart from the bindings so plain Python can test it."""

import json


def count(text: str) -> dict:
    """Words (separated by whitespace) and characters (code points)."""
    return {"words": len(text.split()), "characters": len(text)}


def invoke(arguments: str) -> str:
    """JSON arguments in, JSON text out; ValueError on bad arguments."""
    try:
        args = json.loads(arguments)
    except json.JSONDecodeError as e:
        raise ValueError(f"arguments are not JSON: {e}") from None
    if not isinstance(args, dict) or not isinstance(args.get("text"), str):
        raise ValueError("missing string field `text`")
    return json.dumps(count(args["text"]), separators=(",", ":"))
