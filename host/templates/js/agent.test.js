// Unit tests of the `{{name}}` agent's logic: `node --test` in this directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { answer } from "./{{name}}.js";

test("answers with the text", () => {
  assert.equal(answer("hi", 2), "You said: hi (2 earlier turns)");
});
