#!/usr/bin/env node
// Tenant attacks against one gateway through the kube stand-in (build first:
// pnpm --filter @mdns/reliability build), one line per attack.
//   node reliability/scripts/tenant-attacks.mjs [--main FILE] [--no-policy] [--report FILE]
// --main runs another build of the gateway (e.g. an older commit's dist/main.js) for the
// "before" figures; --no-policy leaves sources.ownership out (an older build rejects it).
// Exit 0 when every attack was refused.
import { writeFileSync } from 'node:fs';
import { startStandin } from '@mdns/kube-standin';
import { runTenantAttacks, startTenantGateway, tenantObjects, workdir } from '../dist/index.js';
import { parseArgs, stopOnSignal } from './args.mjs';

const args = parseArgs(process.argv.slice(2), { main: '', noPolicy: false, report: '' });
const work = workdir();
const standin = await startStandin({ objects: tenantObjects() });
const gateway = await startTenantGateway(work, standin, {
  policy: !args.noPolicy,
  main: args.main || undefined,
});
stopOnSignal(async () => {
  await gateway.stop();
  await standin.close();
  work.remove();
});
let results = [];
try {
  results = await runTenantAttacks(standin, gateway);
  for (const r of results) {
    console.log(
      `${r.held ? 'refused ' : 'SUCCEEDED'} | ${r.attack} | ${r.answer} | victims ${r.victimsIntact ? 'intact' : 'HIT'} | handler errors ${r.handlerErrors} | peak RSS +${r.peakGrowthMb} MB`,
    );
  }
  console.log(
    `gateway ${gateway.alive ? 'alive' : 'DEAD'}, peak RSS ${Math.round((gateway.memory()?.peakKb ?? 0) / 1024)} MB`,
  );
  if (args.report) writeFileSync(args.report, JSON.stringify(results, null, 2));
} finally {
  await gateway.stop();
  await standin.close();
  work.remove();
}
process.exit(results.length > 0 && results.every((r) => r.held && r.victimsIntact) ? 0 : 1);
