// Unit tests of the `{{name}}` scanner's logic: `node --test` in this directory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { find, scan } from "./{{name}}.js";

test("finds secrets only", () => {
  assert.deepEqual(find("db password=hunter2"), [["password", "password="]]);
  assert.deepEqual(find("what is a password?"), []);
  assert.equal(scan("-----BEGIN PRIVATE KEY-----", "user-message").tag, "block");
});
