import assert from "node:assert/strict";
import { test } from "node:test";
import { longestIntervalMs, spreadIntervalSec } from "../src/announce-interval.js";

test("announce intervals spread ±20 % in whole seconds; the longest bounds them", () => {
  assert.equal(
    spreadIntervalSec(60, () => 0),
    48,
  );
  assert.equal(
    spreadIntervalSec(60, () => 0.5),
    60,
  );
  assert.equal(
    spreadIntervalSec(60, () => 0.999999),
    72,
  );
  assert.equal(longestIntervalMs(60), 72_000);
  assert.equal(
    spreadIntervalSec(1, () => 0),
    1,
    "never below a second",
  );
  const told = Array.from({ length: 1000 }, () => spreadIntervalSec(60));
  assert.ok(told.every((s) => s >= 48 && s * 1000 <= longestIntervalMs(60)));
  // Spread over the range, not clustered: a crowd's next announces land across 24 s.
  assert.ok(Math.min(...told) <= 50 && Math.max(...told) >= 70, `told ${Math.min(...told)}..${Math.max(...told)}`);
});
