"""`wordstats` tool (Python, built with componentize-py).

Counts words, sentences and characters of a text and lists its most common
words. Pure computation: no files, network or clock.

Note: componentize-py bundles only modules imported at build time, so every
module used must be imported at the top (e.g. `collections.Counter.most_common`
lazily imports `heapq`; we avoid it and sort explicitly).
"""

import json
import re

import wit_world
from componentize_py_types import Err
from wit_world.imports import log
from wit_world.imports.kennel_guest_types import ToolSpec

WORD = re.compile(r"[A-Za-z0-9\u00C0-\u024F']+")
SENTENCE_END = re.compile(r"[.!?]+(\s|$)")
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have i in is it its of on or that the this to was were will with you".split()
)


def stats(text: str, top: int) -> dict:
    words = [w.lower().strip("'") for w in WORD.findall(text)]
    words = [w for w in words if w]
    counts: dict = {}
    for w in words:
        if w not in STOPWORDS:
            counts[w] = counts.get(w, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    sentences = len(SENTENCE_END.findall(text)) or (1 if words else 0)
    return {
        "words": len(words),
        "unique_words": len(set(words)),
        "sentences": sentences,
        "characters": len(text),
        "top_words": [{"word": w, "count": c} for w, c in ranked],
    }


class WitWorld(wit_world.WitWorld):
    def describe(self) -> ToolSpec:
        return ToolSpec(
            name="wordstats",
            description="Count words, unique words, sentences and characters of a text, and list its most common words.",
            parameters=json.dumps(
                {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "description": "the text to analyse"},
                        "top": {"type": "integer", "description": "how many common words to list (default 5)"},
                    },
                    "required": ["text"],
                }
            ),
        )

    def invoke(self, arguments: str) -> str:
        try:
            args = json.loads(arguments)
        except ValueError as e:
            raise Err(f"arguments are not JSON: {e}")
        if not isinstance(args, dict) or not isinstance(args.get("text"), str):
            raise Err("missing string field `text`")
        top = args.get("top", 5)
        if not isinstance(top, int) or top < 0 or top > 50:
            raise Err("`top` must be an integer from 0 to 50")
        log.log(log.Level.DEBUG, f"wordstats over {len(args['text'])} characters")
        return json.dumps(stats(args["text"], top))
