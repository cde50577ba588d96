import assert from "node:assert/strict";
import test from "node:test";
import { parseByteRange } from "../src/http/byte-range.js";

test("byte ranges: the one range asked, the rest of a segment, suffixes; what cannot be served; what is ignored", () => {
  assert.deepEqual(parseByteRange("bytes=100-", 1000), { start: 100, end: 999 });
  assert.deepEqual(parseByteRange("bytes=0-99", 1000), { start: 0, end: 99 });
  assert.deepEqual(parseByteRange("bytes=900-5000", 1000), { start: 900, end: 999 }, "an end past the size is cut to it");
  assert.deepEqual(parseByteRange("bytes=-100", 1000), { start: 900, end: 999 });
  assert.deepEqual(parseByteRange("bytes=-5000", 1000), { start: 0, end: 999 });
  assert.equal(parseByteRange("bytes=1000-", 1000), "unsatisfiable");
  assert.equal(parseByteRange("bytes=-0", 1000), "unsatisfiable");
  // The whole segment (200): no header, another unit, several ranges, reversed, garbage.
  for (const header of [undefined, "items=0-1", "bytes=0-1,5-9", "bytes=9-1", "bytes=-", "bytes=a-b", "bytes= 1-2"]) {
    assert.equal(parseByteRange(header, 1000), undefined, String(header));
  }
});
