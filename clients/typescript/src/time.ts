/**
 * Timers for any duration. `setTimeout` takes at most 2^31-1 ms and fires a
 * longer delay after 1 ms (Node warns with TimeoutOverflowWarning), so a
 * longer one here waits in steps, and `Infinity` never fires.
 */

const MAX_STEP = 2_147_483_647;

/** Calls `fn` after `ms` (any length; Infinity: never); returns a function that cancels it. `unref`: the timer alone does not keep Node running. */
export function after(ms: number, fn: () => void, unref = false): () => void {
  if (ms === Infinity) return () => {};
  let handle: ReturnType<typeof setTimeout> | undefined;
  const until = Date.now() + ms;
  const step = (left: number) => {
    handle = setTimeout(() => {
      const rest = until - Date.now();
      if (rest > 0) step(rest);
      else {
        handle = undefined;
        fn();
      }
    }, Math.min(Math.max(left, 0), MAX_STEP));
    if (unref) (handle as { unref?: () => void }).unref?.();
  };
  step(ms);
  return () => {
    if (handle !== undefined) clearTimeout(handle);
    handle = undefined;
  };
}

/**
 * `value` as a duration in ms: a number >= 0 (> 0 unless `zero`), or
 * Infinity for "no bound". Anything else is a RangeError naming `name`.
 */
export function duration(name: string, value: unknown, zero = true): number {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0 || (!zero && value === 0)) {
    throw new RangeError(`${name} must be a number of milliseconds ${zero ? ">= 0" : "> 0"} (or Infinity), not ${String(value)}`);
  }
  return value;
}
