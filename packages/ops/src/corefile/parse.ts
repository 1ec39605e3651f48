/**
 * A CoreDNS Corefile (Caddyfile syntax), parsed into server blocks and directives, so the
 * apps' `convert-corefile` commands can turn a CoreDNS + k8s_gateway / fanout setup into
 * our YAML. Pure: text in, tree or an error naming the line out.
 *
 *   example.org:1053 other.org {     <- server block: keys, then `{`
 *       plugin arg arg {             <- directive, optionally with its own block
 *           option arg               <- sub-directive
 *       }
 *   }
 *
 * `#` starts a comment (outside quotes); "double quoted" tokens keep their spaces.
 */
export interface CorefileDirective {
  name: string;
  args: string[];
  /** 1-based line of the directive's name. */
  line: number;
  /** The `{ ... }` block after the arguments; empty when there is none. */
  block: CorefileDirective[];
}

export interface CorefileServerBlock {
  /** Keys as written, e.g. `example.org:1053`, `.`, `dns://.:53`. */
  keys: string[];
  line: number;
  directives: CorefileDirective[];
}

export type CorefileParse =
  | { ok: true; blocks: CorefileServerBlock[] }
  | { ok: false; error: string };

interface Token {
  text: string;
  line: number;
  /** Quoted tokens are never braces. */
  quoted: boolean;
}

/** Splits into per-line token lists; throws with the line on an unterminated quote. */
function tokenizeLines(text: string): Token[][] {
  const lines: Token[][] = [];
  const source = text.replace(/\r\n?/g, '\n').split('\n');
  source.forEach((raw, i) => {
    const line = i + 1;
    const tokens: Token[] = [];
    let j = 0;
    while (j < raw.length) {
      const c = raw[j];
      if (c === ' ' || c === '\t') {
        j++;
      } else if (c === '#') {
        break;
      } else if (c === '"') {
        let value = '';
        j++;
        while (j < raw.length && raw[j] !== '"') {
          if (raw[j] === '\\' && j + 1 < raw.length) j++;
          value += raw[j];
          j++;
        }
        if (j >= raw.length) throw new Error(`line ${line}: unterminated quoted string`);
        j++;
        tokens.push({ text: value, line, quoted: true });
      } else {
        let value = '';
        while (j < raw.length && raw[j] !== ' ' && raw[j] !== '\t') {
          value += raw[j];
          j++;
        }
        tokens.push({ text: value, line, quoted: false });
      }
    }
    if (tokens.length > 0) lines.push(tokens);
  });
  return lines;
}

const isOpen = (t: Token | undefined): boolean => t !== undefined && !t.quoted && t.text === '{';
const isClose = (t: Token | undefined): boolean => t !== undefined && !t.quoted && t.text === '}';

export function parseCorefile(text: string): CorefileParse {
  let lines: Token[][];
  try {
    lines = tokenizeLines(text);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  let at = 0;

  /** Directives until the matching `}` line (consumed); `opened` is the `{` line. */
  function directives(opened: number): CorefileDirective[] {
    const out: CorefileDirective[] = [];
    for (;;) {
      const tokens = lines[at];
      if (tokens === undefined) throw new Error(`line ${opened}: "{" is never closed`);
      at++;
      if (isClose(tokens[0])) {
        if (tokens.length > 1) throw new Error(`line ${tokens[0].line}: unexpected text after "}"`);
        return out;
      }
      const [name, ...rest] = tokens;
      if (isOpen(name)) throw new Error(`line ${name.line}: "{" without a directive name`);
      const opens = isOpen(rest.at(-1));
      const args = opens ? rest.slice(0, -1) : rest;
      const stray = args.find((t) => isOpen(t) || isClose(t));
      if (stray) throw new Error(`line ${stray.line}: unexpected "${stray.text}"`);
      out.push({
        name: name.text,
        args: args.map((t) => t.text),
        line: name.line,
        block: opens ? directives(name.line) : [],
      });
    }
  }

  try {
    const blocks: CorefileServerBlock[] = [];
    while (at < lines.length) {
      const tokens = lines[at];
      at++;
      let keys = tokens;
      if (isOpen(keys.at(-1))) keys = keys.slice(0, -1);
      else if (isOpen(lines[at]?.[0]) && lines[at].length === 1) at++;
      else throw new Error(`line ${tokens[0].line}: expected "{" after the server block keys`);
      const names = keys.flatMap((t) => t.text.split(',')).filter((k) => k !== '');
      if (names.length === 0 || keys.some((t) => isOpen(t) || isClose(t))) {
        throw new Error(
          `line ${tokens[0].line}: expected server block keys such as example.org:53`,
        );
      }
      blocks.push({ keys: names, line: tokens[0].line, directives: directives(tokens[0].line) });
    }
    return { ok: true, blocks };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** A server block key split into zone and port: `dns://example.org:1053` -> example.org, 1053. */
export function splitServerKey(key: string): { zone: string; port: number | null } {
  const bare = key.replace(/^[a-z+]+:\/\//, '');
  const m = /^(.*?)(?::(\d+))?$/.exec(bare);
  const zone = m?.[1] === '' || m?.[1] === undefined ? '.' : m[1];
  return { zone, port: m?.[2] !== undefined ? Number(m[2]) : null };
}

/**
 * A Go duration (`5s`, `1m30s`, `500ms`, `1h`) or bare seconds, in seconds; null if it is
 * neither. CoreDNS plugins take both.
 */
export function parseCorefileDuration(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) return null;
    total += Number(m[1]) * units[m[2]];
    rest = rest.slice(m[0].length);
  }
  return text === '' ? null : total;
}
