import { describe, expect, it } from 'vitest';
import { type DeadlineItem, Deadlines } from '../src/client/deadlines.js';

function item(log: string[], name: string, then?: () => void): DeadlineItem {
  return {
    due: 0,
    dueSlot: 0,
    onDeadline() {
      log.push(name);
      then?.();
    },
  };
}

function idle(deadlines: Deadlines): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (deadlines.armed === 0 ? resolve() : setTimeout(poll, 5));
    poll();
  });
}

describe('Deadlines (one coarse timer for many query deadlines)', () => {
  it('fires each armed deadline once, earliest first, and never a removed one', async () => {
    const deadlines = new Deadlines();
    const log: string[] = [];
    const late = item(log, 'late');
    const early = item(log, 'early');
    const removed = item(log, 'removed');
    deadlines.add(late, 60);
    deadlines.add(early, 10);
    deadlines.add(removed, 20);
    deadlines.remove(removed);
    expect(deadlines.armed).toBe(2);
    await idle(deadlines);
    expect(log).toEqual(['early', 'late']);
    expect(early.due).toBe(0);
  });

  it('a re-armed deadline fires at its new time only, and an item can re-arm itself when called', async () => {
    const deadlines = new Deadlines();
    const log: string[] = [];
    const moved = item(log, 'moved');
    deadlines.add(moved, 5);
    deadlines.add(moved, 40);
    const other = item(log, 'other');
    deadlines.add(other, 20);
    let rounds = 0;
    const again: DeadlineItem = item(log, 'again', () => {
      if (++rounds < 2) deadlines.add(again, 1);
    });
    deadlines.add(again, 1);
    await idle(deadlines);
    // 'again' re-arms itself, so on a loaded box its second call may come after 'other'.
    expect(log.filter((x) => x !== 'again')).toEqual(['other', 'moved']);
    expect(log.filter((x) => x === 'again')).toHaveLength(2);
  });

  it('removing some items of one bucket (out of order) fires exactly the others', async () => {
    const deadlines = new Deadlines();
    const log: string[] = [];
    const items = Array.from({ length: 8 }, (_, i) => item(log, `q${i}`));
    for (const it of items) deadlines.add(it, 10);
    for (const i of [0, 7, 3, 4]) deadlines.remove(items[i]);
    expect(deadlines.armed).toBe(4);
    await idle(deadlines);
    expect(log.sort()).toEqual(['q1', 'q2', 'q5', 'q6']);
  });

  it('holds no timer once nothing is armed (removing the last deadline)', async () => {
    const deadlines = new Deadlines();
    const log: string[] = [];
    const only = item(log, 'only');
    deadlines.add(only, 10);
    deadlines.remove(only);
    deadlines.remove(only);
    expect(deadlines.armed).toBe(0);
    // Internals: the timer is gone, so an idle client does not keep the process alive.
    expect((deadlines as unknown as { timer: unknown }).timer).toBeNull();
    await new Promise((r) => setTimeout(r, 30));
    expect(log).toEqual([]);
  });
});
