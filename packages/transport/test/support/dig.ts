import { execFile } from 'node:child_process';

export interface DigResult {
  status: string;
  flags: string[];
  /** Answer lines split on whitespace: [name, ttl, class, type, ...rdata]. */
  answers: string[][];
  raw: string;
}

/** Runs dig or kdig and parses its text output (header comment, flags, answer lines). */
export function runDig(
  tool: 'dig' | 'kdig',
  server: string,
  port: number,
  args: string[],
): Promise<DigResult> {
  const base =
    tool === 'dig'
      ? [`@${server}`, '-p', String(port), '+noall', '+answer', '+comments', '+tries=1', '+time=5']
      : [`@${server}`, '-p', String(port), '+noall', '+answer', '+header', '+retry=0', '+time=5'];
  return new Promise((resolve, reject) => {
    execFile(tool, [...base, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(`${tool} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`),
        );
        return;
      }
      resolve(parseDig(stdout));
    });
  });
}

export function parseDig(raw: string): DigResult {
  const status = /status: ([A-Z]+)/.exec(raw)?.[1] ?? '';
  const flags = (/flags: ([a-z ]*);/.exec(raw)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const answers = raw
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith(';'))
    .map((line) => line.trim().split(/\s+/));
  return { status, flags, answers, raw };
}
