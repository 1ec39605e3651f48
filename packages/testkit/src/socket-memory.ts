import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The buffer sizes `ss -u -l -n -m` reports for the UDP socket bound to `port` on this host:
 * `rb` (SO_RCVBUF) and `tb` (SO_SNDBUF), each twice what a program asked for (the kernel
 * doubles the value for its bookkeeping), capped by `rmem_max` / `wmem_max`.
 */
export function udpSocketMemory(port: number): { rb: number; tb: number } {
  const out = execFileSync('ss', ['-u', '-l', '-n', '-m', `sport = :${port}`], {
    encoding: 'utf8',
  });
  const m = /skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)/.exec(out);
  if (!m) throw new Error(`no skmem for udp port ${port} in: ${out}`);
  return { rb: Number(m[1]), tb: Number(m[2]) };
}

/** A `net.core` sysctl as a number, e.g. `netCoreSysctl('rmem_max')`. */
export function netCoreSysctl(name: string): number {
  return Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8'));
}
