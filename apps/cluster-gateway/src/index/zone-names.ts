import type { ZoneNames } from '@mdns/ops';
import { apexRecords, ownedNameRecords, type ZoneApex } from '@mdns/protocol';
import type { HeldNames } from '../sources/health/held-names.js';
import type { GatewayIndex } from './gateway-index.js';

/**
 * What a zone transfer carries, name by name (`ZoneVersions`' `names`): the index's records
 * and a marker at each held name, as `zoneRecords` lists them, and the names whose records
 * changed since the last commit: the index notes every name whose merged records moved
 * (an object added, changed or removed, a relist after 410 Gone, a conflict now won by
 * another object, a wildcard), the held names every name held or let go. Starts both
 * noting. `owns`: the name belongs to this zone (not to a more specific zone we serve).
 */
export function gatewayZoneNames(
  index: GatewayIndex,
  held: HeldNames,
  owns: (apex: ZoneApex, name: string) => boolean,
): ZoneNames {
  index.trackChangedNames();
  held.trackChangedNames();
  const source = {
    recordsAt: (name: string) => index.recordsAt(name),
    isHeld: (name: string) => held.isHeld(name),
  };
  return {
    *all() {
      for (const [name] of index.namesWithRecords()) yield name;
      yield* held.names();
    },
    changed: () => [...index.takeChangedNames(), ...held.takeChangedNames()],
    fixed: apexRecords,
    records: (apex, name) => ownedNameRecords(source, apex, (n) => owns(apex, n), name),
  };
}
