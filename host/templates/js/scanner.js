// `{{name}}` scanner (JavaScript, built with componentize-js): blocks text
// that carries a secret (a private key or a `password=` assignment).

// What this scanner blocks: [rule, needle].
const NEEDLES = [
  ["private-key", "BEGIN PRIVATE KEY"],
  ["password", "password="],
];

/** The [rule, needle] pairs whose needle occurs in `text`. */
export function find(text) {
  return NEEDLES.filter(([, needle]) => text.includes(needle));
}

export function scan(text, _source) {
  const found = find(text).map(([rule, needle]) => ({ rule, score: 100, excerpt: needle }));
  return found.length ? { tag: "block", val: found } : { tag: "allow" };
}
