export type { AnswerChain, AnswerPatchOptions } from './answer-chain.js';
export { patchAnswer, scanAnswerChain } from './answer-chain.js';
export type { ApexRecords, SoaFields, ZoneApex } from './apex.js';
export { anyResponseRecord, apexAnswer, glueAnswer, negativeSoa } from './apex.js';
export { chooseCname } from './cname-rule.js';
export { CLASS, OPCODE, QTYPE, RCODE, rcodeName, typeName, typeNumber } from './constants.js';
export { canonicalAddress } from './ip-address.js';
export type {
  DecodedMessage,
  DecodeResult,
  DnsMessage,
  DnsQuestion,
  DnsRecord,
} from './message.js';
export { decode, EncodeError, encode, flatRecord } from './message.js';
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
export {
  MAX_QUERY_NAME_CACHE_SLOTS,
  queryNameCacheSlots,
  setQueryNameCacheSlots,
} from './private/wire-name.js';
export type { ResponseOptions, ResponseParts, Transport } from './response.js';
export {
  buildResponse,
  DEFAULT_UDP_SIZE,
  errorResponse,
  maxResponseSize,
} from './response.js';
export type { EdnsInfo, ScannedQuery, ScanResult } from './scan.js';
export { scan } from './scan.js';
export type {
  LocalData,
  RuleReason,
  RuleZone,
  SharedDecision,
  SharedRules,
} from './shared-rules.js';
export { sharedRules } from './shared-rules.js';
export type { PatchOptions, PrepareResult, StoredAnswer, StoredLayout } from './stored.js';
export { patchStored, patchStoredFrom, prepareStored, tryPrepareStored } from './stored.js';
export * from './xfr/index.js';
export type { Answer, AnswerSource, IndexFound } from './zone/answer.js';
export {
  answerQuery,
  characterStrings,
  indexRules,
  recordsFor,
  targetAddresses,
} from './zone/answer.js';
export type { LoadedZone, SkippedRecord } from './zone/from-records.js';
export { applyZoneDiffs, indexFromRecords, type RecordChanges } from './zone/from-records.js';
export { HELD_TYPE, HELD_TYPE_NAME, HeldNameSet, heldMarker } from './zone/held-names.js';
export { foldAt, OverlayMap } from './zone/overlay-map.js';
export type { ContestedName, IndexLookup, OwnerRule } from './zone/record-index.js';
export { RecordIndex } from './zone/record-index.js';
export type {
  Claim,
  Claimant,
  ClaimOrigin,
  ExtraData,
  ExtraRecord,
  ExtraType,
  NameRecords,
} from './zone/records.js';
export { extraRecord, mergeClaims, originOf, sameRecords } from './zone/records.js';
export type { NameSource, ZoneSource } from './zone/zone-records.js';
export { apexRecords, ownedNameRecords, zoneRecords } from './zone/zone-records.js';
export { ZoneSet } from './zone-set.js';
