import { afterEach, describe, expect, it, vi } from 'vitest';
import { compactAfterStartup } from '../src/heap-tuning.js';

// heap-tuning.ts: start-up ends when every part has reported (one compaction, after the
// reporting stack has unwound), or at the deadline when a part never reports.
describe('compactAfterStartup', () => {
  afterEach(() => vi.useRealTimers());
  const logger = () => ({ info: vi.fn(), warn: vi.fn() });

  it('compacts once, after the last part, not from inside its call', async () => {
    const compact = vi.fn();
    const done = compactAfterStartup(['index', 'kubernetes'], logger(), { compact });
    done('index');
    done('index');
    await new Promise((r) => setImmediate(r));
    expect(compact).not.toHaveBeenCalled();
    done('kubernetes');
    expect(compact).not.toHaveBeenCalled();
    await new Promise((r) => setImmediate(r));
    expect(compact).toHaveBeenCalledTimes(1);
    done('kubernetes');
    await new Promise((r) => setImmediate(r));
    expect(compact).toHaveBeenCalledTimes(1);
  });

  it('a part that never reports: at the deadline, one compaction and a warning naming it', () => {
    vi.useFakeTimers();
    const compact = vi.fn();
    const log = logger();
    const done = compactAfterStartup(['index', 'kubernetes'], log, { compact, deadlineMs: 1000 });
    done('index');
    vi.advanceTimersByTime(999);
    expect(compact).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(compact).toHaveBeenCalledTimes(1);
    expect(log.warn).toHaveBeenCalledWith(
      { waitingFor: ['kubernetes'], deadlineSeconds: 1 },
      expect.stringContaining('start-up not done by its deadline'),
    );
    // The late part changes nothing.
    done('kubernetes');
    vi.runAllTimers();
    expect(compact).toHaveBeenCalledTimes(1);
  });

  it('start-up done in time: the deadline does nothing', () => {
    vi.useFakeTimers();
    const compact = vi.fn();
    const log = logger();
    const done = compactAfterStartup(['index'], log, { compact, deadlineMs: 1000 });
    done('index');
    vi.runAllTimers();
    expect(compact).toHaveBeenCalledTimes(1);
    expect(log.warn).not.toHaveBeenCalled();
  });
});
