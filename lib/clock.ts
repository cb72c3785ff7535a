// The current time for code whose timing tests must control, such as
// escalation: production reads the system clock, and a test sets a clock of
// its own with setClock and puts it back with resetClock.

type Clock = () => Date;

const systemClock: Clock = () => new Date();

let current: Clock = systemClock;

/** Returns the current time from the clock in effect. */
export function now(): Date {
  return current();
}

/** Replaces the clock in tests. resetClock restores the system clock. */
export function setClock(clock: Clock): void {
  current = clock;
}

/** Restores the system clock. */
export function resetClock(): void {
  current = systemClock;
}
