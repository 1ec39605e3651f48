import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` every `everyMs` until it returns true; throws after `timeoutMs`. For
 * conditions that are a yes/no (a port answers, a metric moved) and for plain scripts; a
 * check written as assertions fits vitest's `vi.waitFor` instead.
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 15_000,
  everyMs = 100,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms: ${check}`);
    await sleep(everyMs);
  }
}
