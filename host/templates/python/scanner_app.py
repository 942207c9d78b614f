"""`{{name}}` scanner (Python, built with componentize-py): blocks text that
carries a secret (a private key or a `password=` assignment). The logic is in
logic.py."""

import wit_world
# (The module is `types` here; in worlds that import wasi:http it is `kennel_guest_types`.)
from wit_world.imports.types import (
    Finding,
    ScanSource,
    Verdict,
    Verdict_Allow,
    Verdict_Block,
)

import logic


class WitWorld(wit_world.WitWorld):
    def scan(self, text: str, source: ScanSource) -> Verdict:
        found = [Finding(rule=r, score=100, excerpt=n) for r, n in logic.find(text)]
        return Verdict_Block(found) if found else Verdict_Allow()
