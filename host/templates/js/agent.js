// `{{name}}` agent (JavaScript, built with componentize-js): answers every
// message with what it heard. The host's llm, tools and memory imports can be
// imported from "kennel:guest/llm@0.2.0" and the like.

/** The reply to `text` after `history` earlier turns. */
export function answer(text, history) {
  return `You said: ${text} (${history} earlier turns)`;
}

export function handle(ctx, msg) {
  return { text: answer(msg.text, ctx.history.length), files: [] };
}
