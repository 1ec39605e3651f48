import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { runTool } from './app-process.js';

/**
 * Several "hosts" on one machine: a network namespace per node, all on one bridge (itself in
 * a namespace of its own, so nothing is routed or forwarded through the machine's own
 * stack), plus a veth from the test's own namespace onto that bridge so the test reaches
 * every node by address. Links between two nodes are cut with nftables inside a node's
 * namespace (`tc netem` does not exist in this kernel, see FIELD-NOTES). Root only.
 *
 * Addresses come from documentation ranges: a random /28 of 198.51.100.0/24 and a random
 * /64 of 2001:db8::/32 per lab, so two labs of concurrent runs do not collide.
 */

/** Every namespace of a lab is named `<LAB_PREFIX>-<pid>-<random>-<node>`. */
export const LAB_PREFIX = 'mdnslab';

export interface LabNode {
  name: string;
  /** Its namespace: run a process in it with `ip netns exec <netns> ...` (AppProcess `netns`). */
  netns: string;
  ipv4: string;
  ipv6: string;
}

export interface NetLab {
  /** `<LAB_PREFIX>-<pid>-<random>`: every namespace of this lab starts with it. */
  id: string;
  /** The test's own end on the lab's bridge. */
  host: { ipv4: string; ipv6: string };
  /** The lab's subnets, for allow lists: `198.51.100.X/28`, `2001:db8:X::/64`. */
  subnets: { ipv4: string; ipv6: string };
  node(name: string): LabNode;
  /** Drops every packet between `a` and `b` (both directions, both families), at `a`. */
  cut(a: string, b: string): Promise<void>;
  /** Undoes `cut(a, b)`. */
  heal(a: string, b: string): Promise<void>;
  /** `argv` run inside `node`'s namespace to completion: stdout + stderr (also on a non-zero exit). */
  exec(node: string, argv: string[], timeoutMs?: number): Promise<string>;
  /** Kills what still runs in the lab's namespaces and deletes them (the bridge and veths go with them). */
  destroy(): Promise<void>;
}

/** Why a lab cannot be built here (not root, `ip` or `nft` missing), or null when it can. */
export function netLabUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  for (const tool of ['ip', 'nft']) {
    try {
      execFileSync('/bin/sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`], {
        stdio: 'ignore',
      });
    } catch {
      return `\`${tool}\` is missing (scripts/ensure-tools.sh installs it)`;
    }
  }
  return null;
}

/** `argv` to completion (with `input` on its stdin); its stdout, or a rejection naming the command. */
function run(argv: string[], input?: string, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      { timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${argv.join(' ')}: ${stderr || err.message}\n${input ?? ''}`));
        else resolve(stdout);
      },
    );
    // A command that exits without reading its stdin (most of them: `ip netns add`, `nft`
    // with a bad rule) closes the pipe under our write: EPIPE. Its exit status and stderr are
    // the error worth reporting (above); an unhandled EPIPE would kill the test process.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** `ip` reads a batch of commands from stdin (inside `netns` when given): one process for many. */
function ipBatch(lines: string[], netns?: string): Promise<string> {
  const ns = netns === undefined ? [] : ['-n', netns];
  return run(['ip', ...ns, '-batch', '-'], `${lines.join('\n')}\n`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function namespaces(): Promise<string[]> {
  const out = await run(['ip', 'netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n !== '');
}

/** Kills the processes left in `netns` (by pid) and deletes it. */
async function removeNamespace(netns: string): Promise<void> {
  const pids = (await run(['ip', 'netns', 'pids', netns]).catch(() => ''))
    .split('\n')
    .map(Number)
    .filter((p) => p > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await run(['ip', 'netns', 'del', netns]).catch(() => {});
}

/**
 * Deletes the namespaces of labs whose test process is gone (a run killed before its
 * `afterAll`). A live process's lab is left alone: it may be a concurrent run.
 */
export async function removeStaleLabs(): Promise<string[]> {
  const stale = (await namespaces()).filter((n) => {
    const m = new RegExp(`^${LAB_PREFIX}-(\\d+)-`).exec(n);
    return m !== null && !pidAlive(Number(m[1]));
  });
  for (const n of stale) await removeNamespace(n);
  return stale;
}

/** A /28 of 198.51.100.0/24 that no interface of this namespace has an address in. */
async function freeIpv4Block(): Promise<number> {
  const used = await run(['ip', '-4', '-o', 'addr', 'show']);
  const taken = new Set<number>();
  for (const m of used.matchAll(/inet 198\.51\.100\.(\d+)\//g)) taken.add(Number(m[1]) & 0xf0);
  const free = Array.from({ length: 16 }, (_, i) => i * 16).filter((b) => !taken.has(b));
  if (free.length === 0) throw new Error('no free /28 left in 198.51.100.0/24');
  return free[Math.floor(Math.random() * free.length)];
}

/**
 * Builds a lab with one namespace per name in `nodes` (at most 13). Removes stale labs
 * first. Call `destroy()` in `afterAll`, also when a case failed.
 */
export async function createNetLab(nodes: readonly string[]): Promise<NetLab> {
  if (nodes.length > 13) throw new Error('a lab has at most 13 nodes (one /28)');
  await removeStaleLabs();
  const id = `${LAB_PREFIX}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const block = await freeIpv4Block();
  const v6net = `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
  const v4 = (i: number) => `198.51.100.${block + i}`;
  const v6 = (i: number) => `${v6net}::${i.toString(16)}`;
  const lan = `${id}-lan`;
  // Interface names are at most 15 bytes and global in the test's namespace: pid + random.
  const hostIf = `mx${id.slice(LAB_PREFIX.length + 1).replace(/-/g, '')}`.slice(0, 15);
  const labNodes = new Map<string, LabNode>(
    nodes.map((name, i) => [
      name,
      { name, netns: `${id}-${name}`, ipv4: v4(i + 2), ipv6: v6(i + 2) },
    ]),
  );
  const created: string[] = [];
  const lab: NetLab = {
    id,
    host: { ipv4: v4(1), ipv6: v6(1) },
    subnets: { ipv4: `198.51.100.${block}/28`, ipv6: `${v6net}::/64` },
    node(name) {
      const n = labNodes.get(name);
      if (n === undefined) throw new Error(`no node ${name} in lab ${id}`);
      return n;
    },
    async cut(a, b) {
      const peer = lab.node(b);
      const table = `cut_${b.replace(/[^a-z0-9]/gi, '_')}`;
      // Dropped, not rejected: a partition looks like silence (timeouts), not like a refusal.
      const rules = [
        `table inet ${table} {`,
        '  chain input { type filter hook input priority 0; policy accept;',
        `    ip saddr ${peer.ipv4} drop; ip6 saddr ${peer.ipv6} drop; }`,
        '  chain output { type filter hook output priority 0; policy accept;',
        `    ip daddr ${peer.ipv4} drop; ip6 daddr ${peer.ipv6} drop; }`,
        '}',
      ].join('\n');
      await run(['ip', 'netns', 'exec', lab.node(a).netns, 'nft', '-f', '-'], `${rules}\n`);
    },
    async heal(a, b) {
      const table = `cut_${b.replace(/[^a-z0-9]/gi, '_')}`;
      await run([
        'ip',
        'netns',
        'exec',
        lab.node(a).netns,
        'nft',
        'delete',
        'table',
        'inet',
        table,
      ]);
    },
    exec(node, argv, timeoutMs = 20_000) {
      return runTool('ip', ['netns', 'exec', lab.node(node).netns, ...argv], timeoutMs);
    },
    async destroy() {
      for (const n of created.reverse()) await removeNamespace(n);
      created.length = 0;
    },
  };
  try {
    const nodeList = [...labNodes.values()];
    created.push(lan, ...nodeList.map((n) => n.netns));
    await ipBatch([
      `netns add ${lan}`,
      ...nodeList.map((n) => `netns add ${n.netns}`),
      `link add ${hostIf} type veth peer name host netns ${lan}`,
      `addr add ${lab.host.ipv4}/28 dev ${hostIf}`,
      // nodad: the address is usable at once, no duplicate-address wait.
      `addr add ${lab.host.ipv6}/64 dev ${hostIf} nodad`,
      `link set ${hostIf} up`,
    ]);
    await ipBatch(
      [
        'link set lo up',
        'link add br0 type bridge',
        'link set br0 up',
        'link set host master br0 up',
        ...nodeList.flatMap((n, i) => [
          `link add n${i} type veth peer name eth0 netns ${n.netns}`,
          `link set n${i} master br0 up`,
        ]),
      ],
      lan,
    );
    for (const n of nodeList) {
      await ipBatch(
        [
          'link set lo up',
          `addr add ${n.ipv4}/28 dev eth0`,
          `addr add ${n.ipv6}/64 dev eth0 nodad`,
          'link set eth0 up',
        ],
        n.netns,
      );
    }
  } catch (e) {
    await lab.destroy();
    throw e;
  }
  return lab;
}
