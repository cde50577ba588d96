import assert from "node:assert/strict";
import { test } from "node:test";
import { RestartBudget } from "../src/transcode/restart-budget.js";

const MIN = 60_000;

/** A budget of 5 restarts per 10 minutes on a clock the test moves. */
function budget() {
  let now = 1_000_000;
  const b = new RestartBudget(5, 10 * MIN, () => now);
  return { b, at: (ms: number) => (now = 1_000_000 + ms) };
}

test("crashes spread over more than the window are all restarted, however many", () => {
  const { b, at } = budget();
  // One crash every 3 minutes for 3 hours: never more than 4 inside any 10 minutes.
  for (let i = 0; i < 60; i++) {
    at(i * 3 * MIN);
    assert.equal(b.take(), true, `crash ${i + 1} at ${i * 3} min`);
  }
});

test("a sixth crash within the window is refused, and refusing records nothing", () => {
  const { b, at } = budget();
  for (let i = 0; i < 5; i++) {
    at(i * MIN);
    assert.equal(b.take(), true);
  }
  at(5 * MIN);
  assert.equal(b.take(), false);
  assert.equal(b.take(), false);
  assert.equal(b.recent, 5);
});

test("restarts age out exactly one window after they happened", () => {
  const { b, at } = budget();
  for (let i = 0; i < 5; i++) {
    at(i * MIN);
    b.take();
  }
  at(10 * MIN - 1);
  assert.equal(b.take(), false, "the first restart is still inside the window");
  at(10 * MIN);
  assert.equal(b.take(), true, "the first restart has aged out");
  assert.equal(b.take(), false, "only one slot came free");
  at(11 * MIN);
  assert.equal(b.take(), true);
});

test("a budget of 0 never restarts", () => {
  assert.equal(new RestartBudget(0, MIN).take(), false);
});

test("a bad budget is refused with a clear error", () => {
  assert.throws(() => new RestartBudget(-1, MIN), /max must be a whole number/);
  assert.throws(() => new RestartBudget(1.5, MIN), /max must be a whole number/);
  assert.throws(() => new RestartBudget(5, 0), /windowMs must be > 0/);
});
