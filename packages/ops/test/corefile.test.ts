import { describe, expect, it } from 'vitest';
import { parseCorefile, parseCorefileDuration, splitServerKey } from '../src/corefile/parse.js';

describe('parseCorefile', () => {
  it('server blocks, directives, nested blocks, comments and quotes', () => {
    const r = parseCorefile(
      [
        '# a comment',
        'example.org:1053 other.org, third.org {  # trailing comment',
        '    errors',
        '    plugin a "b c" {',
        '        sub x',
        '        deeper {',
        '            leaf 1',
        '        }',
        '    }',
        '}',
        '',
        '.',
        '{',
        '  log',
        '}',
      ].join('\n'),
    );
    expect(r).toEqual({
      ok: true,
      blocks: [
        {
          keys: ['example.org:1053', 'other.org', 'third.org'],
          line: 2,
          directives: [
            { name: 'errors', args: [], line: 3, block: [] },
            {
              name: 'plugin',
              args: ['a', 'b c'],
              line: 4,
              block: [
                { name: 'sub', args: ['x'], line: 5, block: [] },
                {
                  name: 'deeper',
                  args: [],
                  line: 6,
                  block: [{ name: 'leaf', args: ['1'], line: 7, block: [] }],
                },
              ],
            },
          ],
        },
        { keys: ['.'], line: 12, directives: [{ name: 'log', args: [], line: 14, block: [] }] },
      ],
    });
  });

  it.each([
    ['example.org {\n  log\n', 'line 1: "{" is never closed'],
    ['example.org\n  log\n', 'line 1: expected "{" after the server block keys'],
    ['a {\n  log "x\n}\n', 'line 2: unterminated quoted string'],
    ['a {\n  } x\n}\n', 'line 2: unexpected text after "}"'],
    ['a {\n  p { x\n  }\n}\n', 'line 2: unexpected "{"'],
  ])('%j -> %s', (text, error) => {
    expect(parseCorefile(text)).toEqual({ ok: false, error });
  });
});

describe('splitServerKey', () => {
  it.each([
    ['.', '.', null],
    ['.:53', '.', 53],
    [':1053', '.', 1053],
    ['example.org', 'example.org', null],
    ['dns://example.org:5353', 'example.org', 5353],
  ])('%s', (key, zone, port) => {
    expect(splitServerKey(key)).toEqual({ zone, port });
  });
});

describe('parseCorefileDuration', () => {
  it.each([
    ['5s', 5],
    ['1m30s', 90],
    ['500ms', 0.5],
    ['2h', 7200],
    ['30', 30],
    ['', null],
    ['5x', null],
  ])('%j -> %j', (text, seconds) => {
    expect(parseCorefileDuration(text)).toBe(seconds);
  });
});
