"""`{{name}}` agent (Python, built with componentize-py): answers every message
with what it heard. The host's llm, tools and memory imports are in
`wit_world.imports`; the logic is in logic.py."""

import wit_world
from wit_world.imports.kennel_guest_types import Context, Message, Reply

import logic


class WitWorld(wit_world.WitWorld):
    def handle(self, ctx: Context, msg: Message) -> Reply:
        return Reply(text=logic.answer(msg.text, len(ctx.history)), files=[])
