// The clock that time-dependent code takes as an argument, so tests freeze or advance time instead of sleeping.
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock for tests: starts at `start` and moves only when told. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  set(to: number | Date): void {
    this.#now = typeof to === 'number' ? to : to.getTime();
  }
}
