// Unit tests of the `time` tool's logic (node --test), beside the component tests in tests/runtime.rs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { invoke, describe } from "./time.js";

const at = (ms, timezone) => JSON.parse(invoke(JSON.stringify({ timestamp: ms, timezone })));

test("describe names the tool", () => assert.equal(describe().name, "time"));

test("EU daylight saving switches at 01:00 UTC", () => {
  assert.equal(at(Date.UTC(2026, 2, 29, 0, 59), "Europe/Berlin").offset, "UTC+01:00");
  assert.equal(at(Date.UTC(2026, 2, 29, 1, 0), "Europe/Berlin").offset, "UTC+02:00");
  assert.equal(at(Date.UTC(2026, 9, 25, 1, 0), "Europe/London").offset, "UTC+00:00");
});

test("US daylight saving switches at 02:00 local", () => {
  assert.equal(at(Date.UTC(2026, 2, 8, 6, 59), "America/New_York").time, "01:59:00");
  assert.equal(at(Date.UTC(2026, 2, 8, 7, 0), "America/New_York").time, "03:00:00");
  assert.equal(at(Date.UTC(2026, 10, 1, 6, 0), "America/New_York").offset, "UTC-05:00");
});

test("southern hemisphere and fixed offsets", () => {
  assert.equal(at(Date.UTC(2026, 0, 1), "Australia/Sydney").offset, "UTC+11:00");
  assert.equal(at(Date.UTC(2026, 6, 1), "Australia/Sydney").offset, "UTC+10:00");
  assert.deepEqual(at(0, "+05:30"), { timezone: "+05:30", date: "1970-01-01", time: "05:30:00", weekday: "Thursday", offset: "UTC+05:30" });
  assert.equal(at("1970-01-01T00:00:00Z", "Asia/Tokyo").time, "09:00:00");
});

test("bad input is an error string", () => {
  assert.throws(() => invoke("nope"), /not JSON/);
  assert.throws(() => invoke(JSON.stringify({ timestamp: "x" })), /timestamp/);
  assert.throws(() => invoke(JSON.stringify({ timestamp: 0, timezone: "Mars/Base" })), /unknown time zone/);
});
