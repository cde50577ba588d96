/**
 * How many times a crashed transcoder may be restarted: at most `max` restarts within any
 * `windowMs`. Restarts age out, so crashes hours apart never add up to cutting a long stream,
 * while an ffmpeg that dies again and again right away still ends it.
 */
export class RestartBudget {
  /** When each restart still inside the window happened, oldest first. */
  private readonly times: number[] = [];

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`RestartBudget: max must be a whole number >= 0, got ${max}`);
    if (!(windowMs > 0)) throw new RangeError(`RestartBudget: windowMs must be > 0, got ${windowMs}`);
  }

  /** Records a restart and returns true, or returns false (recording nothing) when the budget is spent. */
  take(): boolean {
    const now = this.now();
    while (this.times.length > 0 && this.times[0]! <= now - this.windowMs) this.times.shift();
    if (this.times.length >= this.max) return false;
    this.times.push(now);
    return true;
  }

  /** Restarts within the window as of the last take(). */
  get recent(): number {
    return this.times.length;
  }
}
