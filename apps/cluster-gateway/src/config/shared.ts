// The config fragments both apps share (contracts: "Shared config fragments"), in one place
// so the gateway's schema and main read them from the same import.
export {
  dnsName,
  listenSchema,
  logSchema,
  metricsSchema,
  opsPortsSchema,
  rrlSchema,
  shutdownSchema,
  zoneApexFromConfig,
  zoneSchema,
} from '@mdns/ops';
