export type { ApexRecords, SoaFields, ZoneApex } from './apex.js';
export { anyResponseRecord, apexAnswer, glueAnswer, negativeSoa } from './apex.js';
export { chooseCname } from './cname-rule.js';
export { CLASS, OPCODE, QTYPE, RCODE, typeName, typeNumber } from './constants.js';
export type {
  DecodedMessage,
  DecodeResult,
  DnsMessage,
  DnsQuestion,
  DnsRecord,
} from './message.js';
export { decode, EncodeError, encode } from './message.js';
export {
  ancestors,
  isAtOrBelow,
  labelBoundary,
  labelCount,
  labels,
  normalizeName,
  parentName,
  validateDnsName,
  validateHostname,
  validateQueryName,
} from './names.js';
export type { ResponseOptions, ResponseParts, Transport } from './response.js';
export {
  buildResponse,
  DEFAULT_UDP_SIZE,
  errorResponse,
  maxResponseSize,
} from './response.js';
export type { EdnsInfo, ScannedQuery, ScanResult } from './scan.js';
export { scan } from './scan.js';
export type { PatchOptions, PrepareResult, StoredAnswer } from './stored.js';
export { patchStored, prepareStored, tryPrepareStored } from './stored.js';
export * from './xfr/index.js';
export { ZoneSet } from './zone-set.js';
