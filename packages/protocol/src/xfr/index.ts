export type {
  RefuseReason,
  TransferDecision,
  TransferFacts,
} from './access.js';
export { transferDecision } from './access.js';
export type { ApplyResult, ZoneDiff } from './diff.js';
export {
  applyDiff,
  applyDiffTo,
  diffKeyed,
  diffRecords,
  keyedRecords,
  recordKey,
} from './diff.js';
export type { JournalEntry, JournalLimits } from './journal.js';
export { ZoneJournal } from './journal.js';
export { axfrRecords, ixfrRecords, soaWithSerial, transferMessages } from './messages.js';
export { nextSerial, serialAdd, serialCompare } from './serial.js';
export type {
  TsigAlgorithm,
  TsigFailure,
  TsigKey,
  TsigRecord,
  TsigSignOptions,
  TsigSplit,
  TsigVerifyOptions,
  TsigVerifyResult,
} from './tsig.js';
export {
  DEFAULT_FUDGE,
  TSIG_ALGORITHMS,
  TSIG_ERROR,
  tsigSign,
  tsigSplit,
  tsigUnsignedError,
  tsigVerify,
  tsigVerifySplit,
} from './tsig.js';
export type {
  TransferLimits,
  TransferOutcome,
  TransferProblem,
  ZoneCopy,
} from './validate.js';
export { validateTransfer } from './validate.js';
