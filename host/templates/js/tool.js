// `{{name}}` tool (JavaScript, built with componentize-js): counts the words
// and characters of a text. Arguments {"text": "..."}; answer
// {"words": W, "characters": C}. Throwing returns the error to the agent.

export function describe() {
  return {
    name: "{{name}}",
    description: "Count the words and characters of a text.",
    parameters: JSON.stringify({
      type: "object",
      properties: { text: { type: "string", description: "the text to count" } },
      required: ["text"],
    }),
  };
}

/** Words (separated by whitespace) and characters (code points). */
export function count(text) {
  const words = text.split(/\s+/).filter((w) => w.length > 0).length;
  return { words, characters: [...text].length };
}

export function invoke(argumentsJson) {
  let args;
  try {
    args = JSON.parse(argumentsJson);
  } catch (e) {
    throw `arguments are not JSON: ${e.message}`;
  }
  if (typeof args?.text !== "string") throw "missing string field `text`";
  return JSON.stringify(count(args.text));
}
