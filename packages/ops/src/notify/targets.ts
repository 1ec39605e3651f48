import { promises as dns } from 'node:dns';

// Where NOTIFY goes. A target is an address, or a host name resolved to ALL its addresses
// at every send: several authority replicas behind one Service address would each see a
// NOTIFY only by luck (the Service picks one), while a headless Service name gives one
// A/AAAA per authority pod, so every replica gets its own NOTIFY. Resolving again at each
// send follows replicas that were rescheduled since the last one.

/** A configured target: exactly one of `address` (IP literal) and `host` (a DNS name). */
export interface NotifyTargetConfig {
  address?: string;
  host?: string;
  port: number;
  /** Name of the TSIG key the NOTIFY is signed with (`transfer.keys`). */
  key?: string;
}

/** One place a NOTIFY is sent to. */
export interface NotifyTarget {
  address: string;
  port: number;
  key?: string;
}

/** Every address (A and AAAA) of a name; rejects when the name has none. */
export type HostResolver = (host: string) => Promise<string[]>;

export interface ResolvedTargets {
  targets: NotifyTarget[];
  /** Hosts that did not resolve this time, with why. */
  failures: { host: string; error: string }[];
}

/**
 * The send list for one NOTIFY round: address targets as they are, each host expanded to
 * every address it has now, duplicates (the same address:port twice) sent once.
 */
export async function resolveTargets(
  configured: readonly NotifyTargetConfig[],
  resolve: HostResolver,
): Promise<ResolvedTargets> {
  const expanded = await Promise.all(
    configured.map(async (t) => {
      if (t.host === undefined) {
        return { addresses: [t.address as string], port: t.port, key: t.key };
      }
      try {
        return { addresses: await resolve(t.host), port: t.port, key: t.key };
      } catch (err) {
        const error = (err as Error).message;
        return { host: t.host, addresses: [], port: t.port, key: t.key, error };
      }
    }),
  );
  const seen = new Set<string>();
  const result: ResolvedTargets = { targets: [], failures: [] };
  for (const e of expanded) {
    if (e.error !== undefined) {
      result.failures.push({ host: e.host, error: e.error });
      continue;
    }
    for (const address of e.addresses) {
      const key = `${address}|${e.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      result.targets.push(
        e.key === undefined ? { address, port: e.port } : { address, port: e.port, key: e.key },
      );
    }
  }
  return result;
}

/**
 * The pod's own resolver (getaddrinfo: /etc/hosts, resolv.conf with its search domains),
 * so a short name such as `fanout-authority-pods.mdns` works as it does for any program
 * in the pod.
 */
export const systemResolver: HostResolver = async (host) => {
  const found = await dns.lookup(host, { all: true, verbatim: true });
  if (found.length === 0) throw new Error(`${host}: no address`);
  return found.map((a) => a.address);
};

/**
 * A resolver that asks one DNS server (`notify.resolver`) for A and AAAA, no search
 * domains: for a name the cluster DNS does not serve, or tests on loopback.
 */
export function serverResolver(address: string, port: number): HostResolver {
  const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`]);
  return async (host) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const addresses = [
      ...(v4.status === 'fulfilled' ? v4.value : []),
      ...(v6.status === 'fulfilled' ? v6.value : []),
    ];
    if (addresses.length > 0) return addresses;
    const reason = v4.status === 'rejected' ? (v4.reason as Error).message : 'no A or AAAA';
    throw new Error(`${host}: ${reason}`);
  };
}
