"""`{{name}}` tool (Python, built with componentize-py): counts the words and
characters of a text. The logic is in logic.py; this file binds it to the
`kennel:guest` tool world."""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports.kennel_guest_types import ToolSpec

import logic


class WitWorld(wit_world.WitWorld):
    def describe(self) -> ToolSpec:
        return ToolSpec(
            name="{{name}}",
            description="Count the words and characters of a text.",
            parameters=json.dumps(
                {
                    "type": "object",
                    "properties": {"text": {"type": "string", "description": "the text to count"}},
                    "required": ["text"],
                }
            ),
        )

    def invoke(self, arguments: str) -> str:
        try:
            return logic.invoke(arguments)
        except ValueError as e:
            raise Err(str(e))
