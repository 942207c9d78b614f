// Unit tests of the `{{name}}` tool's logic: `node --test` in this directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { count, invoke, describe } from "./{{name}}.js";

test("describe names the tool", () => assert.equal(describe().name, "{{name}}"));

test("counts words and characters", () => {
  assert.deepEqual(count("hello wide  world"), { words: 3, characters: 17 });
  assert.deepEqual(count("grüße"), { words: 1, characters: 5 });
});

test("bad arguments are an error", () => {
  assert.throws(() => invoke("not json"));
  assert.throws(() => invoke("{}"));
  assert.equal(invoke('{"text":"a b"}'), '{"words":2,"characters":3}');
});
