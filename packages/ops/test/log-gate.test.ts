import { describe, expect, it } from 'vitest';
import { LogGate } from '../src/log-gate.js';

describe('LogGate', () => {
  it('one line per key per interval; the next line says how many were held back', () => {
    let now = 1_000;
    const gate = new LogGate(60_000, 10, () => now);
    expect(gate.pass('10.0.0.1|unsigned')).toBe(0);
    for (let i = 0; i < 500; i++) expect(gate.pass('10.0.0.1|unsigned')).toBeNull();
    // Another key is not held back by the first.
    expect(gate.pass('10.0.0.2|unsigned')).toBe(0);
    now += 60_000;
    expect(gate.pass('10.0.0.1|unsigned')).toBe(500);
    expect(gate.pass('10.0.0.1|unsigned')).toBeNull();
  });

  it('remembers at most maxKeys keys (an attacker chooses the addresses)', () => {
    const now = 0;
    const gate = new LogGate(60_000, 3, () => now);
    for (const k of ['a', 'b', 'c', 'd']) expect(gate.pass(k)).toBe(0);
    // 'a' was forgotten to make room for 'd': it logs again; 'd' is still held back.
    expect(gate.pass('a')).toBe(0);
    expect(gate.pass('d')).toBeNull();
  });

  it('a clock that steps back does not silence a key for longer than one interval', () => {
    let now = 100_000;
    const gate = new LogGate(60_000, 10, () => now);
    expect(gate.pass('k')).toBe(0);
    now = 10_000;
    expect(gate.pass('k')).toBe(0);
  });
});
