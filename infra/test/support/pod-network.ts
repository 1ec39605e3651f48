import { execFileSync } from 'node:child_process';

// What stands between two clusters' pods in these tests: a veth pair between the two pods'
// network namespaces. Each side holds its node's address (the source its traffic to the
// other cluster leaves from: SNAT on egress) and its DNS Service's LoadBalancer address,
// whose port 53 is DNAT'ed to the container's port, as kube-proxy does (externalTrafficPolicy:
// Local keeps the client's source address). Addresses are IPv4 /32s.

export type PodSide = {
  /** The pod's process id: its network namespace is /proc/PID/ns/net. */
  pid: number;
  /** The node address its traffic to the other side leaves from. */
  nodeIP: string;
  /** Its DNS Service's LoadBalancer address, port 53 -> `dnsPort`. */
  lbIP: string;
  dnsPort: number;
};

function inPod(pid: number, cmd: string, args: string[], input?: string): void {
  execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, cmd, ...args], {
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
    timeout: 10_000,
  });
}

/** The nft ruleset of a LoadBalancer address whose port 53 reaches `port` in the pod. */
export function serviceNat(lbIP: string, port: number): string {
  const rules = ['udp', 'tcp'].map((p) => `    ip daddr ${lbIP} ${p} dport 53 dnat to :${port}`);
  return [
    'table ip mdns_service {',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** The first host of an IPv4 CIDR (`203.0.113.128/26` -> `203.0.113.129`), or the address. */
export function firstHost(cidr: string): string {
  const [addr, len] = cidr.split('/');
  if (len === undefined || Number(len) >= 31) return addr;
  const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const host = (n & ~(2 ** (32 - Number(len)) - 1)) + 1;
  return [24, 16, 8, 0].map((s) => (host >>> s) & 255).join('.');
}

/** Wires `a` and `b` together; the link goes away with either namespace. */
export function linkPods(a: PodSide, b: PodSide): void {
  const ifa = `mdns${a.pid}`.slice(0, 15);
  const ifb = `mdns${b.pid}`.slice(0, 15);
  execFileSync('ip', ['link', 'add', ifa, 'type', 'veth', 'peer', 'name', ifb], {
    timeout: 10_000,
  });
  execFileSync('ip', ['link', 'set', ifa, 'netns', String(a.pid)], { timeout: 10_000 });
  execFileSync('ip', ['link', 'set', ifb, 'netns', String(b.pid)], { timeout: 10_000 });
  for (const [self, peer, dev] of [
    [a, b, ifa],
    [b, a, ifb],
  ] as const) {
    inPod(self.pid, 'ip', ['link', 'set', dev, 'up']);
    inPod(self.pid, 'ip', ['addr', 'add', `${self.nodeIP}/32`, 'dev', dev]);
    inPod(self.pid, 'ip', ['addr', 'add', `${self.lbIP}/32`, 'dev', 'lo']);
    inPod(self.pid, 'ip', ['route', 'add', `${peer.nodeIP}/32`, 'dev', dev]);
    inPod(self.pid, 'ip', ['route', 'add', `${peer.lbIP}/32`, 'dev', dev, 'src', self.nodeIP]);
    inPod(self.pid, 'nft', ['-f', '-'], serviceNat(self.lbIP, self.dnsPort));
  }
}
