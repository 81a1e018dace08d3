/**
 * The airlock's contract: how objects are laid out in its zones, what an import may carry and
 * where it lands, which formats run code when loaded, and the records the workflow keeps. Shared
 * by the stack, the functions, the command-line tool and the verifier; nothing here imports
 * aws-cdk-lib or an SDK.
 */

import { DATA_CAPTURE_PREFIX } from './segment-kinds';

/** What an import carries, and the data zone an approved one is copied into. */
export const IMPORT_TARGETS = { dataset: 'raw', model: 'models' } as const;
export type ImportKind = keyof typeof IMPORT_TARGETS;
export const IMPORT_KINDS = Object.keys(IMPORT_TARGETS) as ImportKind[];

/** Uploads go under `incoming/<the uploader's aws:userid>/<kind>/`: the key names who uploaded. */
export const INCOMING_PREFIX = 'incoming/';

/** The prefix an importer session may write: its own `aws:userid`, a policy variable S3 resolves per request. */
export const IMPORTER_PREFIX = `${INCOMING_PREFIX}\${aws:userid}/`;

/** The EventBridge rule GuardDuty manages to hear of a protected bucket's new objects. */
export const MALWARE_SCAN_RULE = 'DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*';

/** The key GuardDuty writes to prove it may scan a bucket (Malware Protection for S3). */
export const MALWARE_SCAN_VALIDATION_KEY = 'malware-protection-resource-validation-object';

/** One part of an object's path: letters, digits and . _ + = @ -, starting with a letter or digit. */
const PART = /^[A-Za-z0-9][A-Za-z0-9._+=@-]{0,254}$/;
/** An `aws:userid` of an assumed role: `AROA…:session-name`. */
const ROLE_USER_ID = /^(AROA[A-Z0-9]{12,}):([\w+=,.@-]{2,64})$/;
/** The longest path an import may name (its key in the target zone, with the zone's prefix). */
export const MAX_PATH = 700;
/** A whole path of such parts, as a regular expression's source (the export workflow checks it again). */
export const PATH_PATTERN = `^${PART.source.slice(1, -1)}(\\/${PART.source.slice(1, -1)})*$`;

/**
 * Checks the path an import names (its key in the target zone: a dataset's files under the
 * dataset's prefix); undefined when it is acceptable, else why not.
 */
export function invalidPath(path: string): string | undefined {
  const parts = path.split('/');
  return path.length <= MAX_PATH && parts.every((p) => PART.test(p))
    ? undefined
    : `"${path}" is not a path the airlock takes: parts of letters, digits and . _ + = @ -, each starting with a letter or digit, joined by "/", at most ${MAX_PATH} characters`;
}

/** Where an importer with `userId` uploads the file that is to become `path` of `kind`. */
export function importKey(userId: string, kind: ImportKind, path: string): string {
  return `${INCOMING_PREFIX}${userId}/${kind}/${path}`;
}

/** The prefix of the models zone that only the airlock's worker writes. */
export const IMPORTED_PREFIX = 'imported/';

/**
 * Where an approved import lands in its target zone: datasets at their path (under their
 * dataset's prefix, where the pseudonymization stage takes them), models under `imported/`, so
 * that an import never stands in for what training wrote.
 */
export function targetKey(kind: ImportKind, path: string): string {
  return kind === 'model' ? `${IMPORTED_PREFIX}${path}` : path;
}

/** An uploaded object's key, read back: who uploaded it (their role's id and session), what, where to. */
export interface ImportObject {
  readonly uploaderId: string;
  readonly uploaderRoleId: string;
  readonly uploaderSession: string;
  readonly kind: ImportKind;
  readonly path: string;
  readonly targetZone: (typeof IMPORT_TARGETS)[ImportKind];
  readonly targetKey: string;
}

/** Reads an import zone key; a key not of the layout gives the reason, and the object is held. */
export function parseImportKey(key: string): ImportObject | { readonly error: string } {
  const parts = key.startsWith(INCOMING_PREFIX) ? key.slice(INCOMING_PREFIX.length).split('/') : [];
  if (parts.length < 3) return { error: `key ${key} is not ${INCOMING_PREFIX}<uploader>/<kind>/<path>` };
  const [uploaderId, kind, ...rest] = parts;
  const path = rest.join('/');
  const id = ROLE_USER_ID.exec(uploaderId);
  if (!id) return { error: `key ${key} names no role session as its uploader` };
  if (!(IMPORT_KINDS as string[]).includes(kind))
    return { error: `key ${key} names kind ${kind}, not one of ${IMPORT_KINDS.join(', ')}` };
  const bad = invalidPath(path);
  if (bad) return { error: bad };
  return {
    uploaderId,
    uploaderRoleId: id[1],
    uploaderSession: id[2],
    kind: kind as ImportKind,
    path,
    targetZone: IMPORT_TARGETS[kind as ImportKind],
    targetKey: targetKey(kind as ImportKind, path),
  };
}

/**
 * File suffixes of formats that run code when loaded: Python pickles and what is built on them
 * (PyTorch's `.bin`, `.pt`, `.pth` and checkpoints, joblib, TorchServe archives), and Keras HDF5,
 * whose Lambda layers deserialize code. Safetensors, GGUF, ONNX, Parquet, CSV and the like hold
 * only data.
 */
export const CODE_EXECUTING_SUFFIXES = [
  '.bin',
  '.ckpt',
  '.h5',
  '.joblib',
  '.mar',
  '.pickle',
  '.pkl',
  '.pt',
  '.pth',
] as const;

/** Names of text formats: configuration, tokenizers, tables, notes. */
const TEXT_SUFFIXES = [
  '.csv',
  '.json',
  '.jsonl',
  '.md',
  '.ndjson',
  '.tiktoken',
  '.tsv',
  '.txt',
  '.yaml',
  '.yml',
];

const ascii = (head: Uint8Array, from: number, to: number) =>
  Buffer.from(head.subarray(from, to)).toString('latin1');

/** UTF-8 without NUL: what a text format's first bytes look like (a character cut at the end is fine). */
function isText(head: Uint8Array): boolean {
  if (head.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Formats that hold only data, each told by its first bytes (and, where those say little, its
 * name): anything else is treated as code until a reviewer accepts it.
 */
const DATA_FORMATS: readonly {
  readonly name: string;
  readonly holds: (name: string, head: Uint8Array) => boolean;
}[] = [
  {
    // An 8-byte little-endian header length, then the JSON header.
    name: 'safetensors',
    holds: (_, h) => h.length >= 9 && h[8] === 0x7b && Buffer.from(h).readBigUInt64LE(0) < 100_000_000n,
  },
  { name: 'GGUF', holds: (_, h) => ascii(h, 0, 4) === 'GGUF' },
  { name: 'Parquet', holds: (_, h) => ascii(h, 0, 4) === 'PAR1' },
  // Protocol buffers, whose first field is a varint (ONNX's ir_version) or a message (SentencePiece's pieces).
  { name: 'ONNX', holds: (n, h) => n.endsWith('.onnx') && h[0] === 0x08 },
  { name: 'SentencePiece', holds: (n, h) => n.endsWith('.model') && h[0] === 0x0a },
  { name: 'text', holds: (n, h) => TEXT_SUFFIXES.some((s) => n.endsWith(s)) && isText(h) },
];

/**
 * Why an object would run code when loaded, judged by its name and its first bytes; undefined: it
 * holds only data. Fails closed: a format that runs code (a pickle, whatever its name) says so,
 * and a format the airlock does not know to hold only data is treated as one that might.
 */
export function codeExecution(name: string, head: Uint8Array): string | undefined {
  const lower = name.toLowerCase();
  const suffix = CODE_EXECUTING_SUFFIXES.find((s) => lower.endsWith(s));
  if (suffix) return `its name ends in ${suffix}, a format that runs code when loaded`;
  // A pickle of protocol 2 or later opens with PROTO (0x80) and the protocol number.
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5)
    return 'its content is a Python pickle, whatever its name';
  // PyTorch's zip format holds a pickle (`data.pkl`) beside the tensors.
  const text = Buffer.from(head).toString('latin1');
  if (text.startsWith('PK\u0003\u0004') && /\.pkl|\.pickle/.test(text))
    return 'its content is a zip archive holding a pickle (the PyTorch format), whatever its name';
  if (DATA_FORMATS.some((f) => f.holds(lower, head))) return undefined;
  return `its format is none the airlock knows to hold only data (${DATA_FORMATS.map((f) => f.name).join(', ')}: ${TEXT_SUFFIXES.join(' ')}), so it may run code when loaded`;
}

/** How long a reviewer has to decide before the request expires and the object stays held. */
export const REVIEW_DAYS = 14;

/** The shortest reason a reviewer may give, and the shortest for accepting code that runs when loaded. */
export const MIN_REASON = 10;
export const MIN_ACCEPTANCE_REASON = 40;

/** What happened to a request; the tag `airlock-state` on the import zone's object says it too. */
export const REQUEST_STATES = [
  'awaiting-review',
  'approved',
  'rejected',
  'quarantined',
  'expired',
  'copied',
  // An export's: asked for, staged, sent out, or refused before review (what it named could not be staged).
  'requested',
  'sent',
  'refused',
  'send-failed',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/** The object tag the workflow sets on what it holds, with the reason. */
export const STATE_TAG = 'airlock-state';
export const REASON_TAG = 'airlock-reason';

/** A scan result status of GuardDuty Malware Protection for S3 that lets an object on to review. */
export const CLEAN_SCAN = 'NO_THREATS_FOUND';

/** A reviewer's decision, as the desk hands it to the workflow. */
export interface Decision {
  readonly decision: 'approve' | 'reject';
  readonly reason: string;
  /** Given when the object runs code when loaded and the reviewer accepts that. */
  readonly codeExecutionAccepted?: string;
  readonly reviewerArn: string;
  readonly reviewerId: string;
  readonly decidedAt: string;
}

/** Refuses a decision by the principal that asked for the item, judged by role and by session. */
export function sameRequester(requesterId: string, reviewerId: string): string | undefined {
  const [requesterRole, requesterSession] = requesterId.split(':');
  const [reviewerRole, reviewerSession] = reviewerId.split(':');
  if (requesterRole === reviewerRole)
    return 'the reviewer acts in the role that requested the item: the same principal may not request and approve';
  if (requesterSession && reviewerSession && requesterSession.toLowerCase() === reviewerSession.toLowerCase())
    return `the reviewer's session (${reviewerSession}) is the requester's: the same person may not request and approve`;
  return undefined;
}

/**
 * The decision log's key of a record: by direction, day, request and event, never overwritten.
 * Imports are recorded under `decisions/` (by the worker), exports under `exports/` (by the
 * exporter): each function writes only its own prefix.
 */
export const RECORD_PREFIXES = { import: 'decisions/', export: 'exports/' } as const;

export function recordKey(
  requestId: string,
  event: string,
  at: string,
  prefix: string = RECORD_PREFIXES.import,
): string {
  return `${prefix}${at.slice(0, 10).replaceAll('-', '/')}/${requestId}/${at}-${event}.json`;
}

/**
 * Export: a requester (a data scientist or ML engineer, in their own session) asks the desk to
 * send one object of a source zone out; the workflow stages a copy under `outgoing/<request>/`
 * of the export zone, tagged with the class of its source zone, for a reviewer to read and
 * decide; an approved copy is sent to the configured destination under `<prefix><request>/`.
 */
export const OUTGOING_PREFIX = 'outgoing/';

/** Where the workflow stages a request's object in the export zone. */
export function stagedKey(requestId: string, key: string): string {
  return `${OUTGOING_PREFIX}${requestId}/${key}`;
}

/** Where an approved export lands at its destination: under the request, so that nothing is written over. */
export function sentKey(prefix: string, requestId: string, key: string): string {
  return `${prefix}${requestId}/${key}`;
}

/** A request id the desk gives: a UUID, which is also the workflow execution's name. */
export const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What a requester asks the desk for, and what the export workflow starts with. */
export interface ExportRequest {
  readonly requestId: string;
  readonly requesterArn: string;
  readonly requesterId: string;
  /** The source zone and the object's key in it. */
  readonly source: string;
  readonly key: string;
  readonly reason: string;
  readonly requestedAt: string;
}

/**
 * Prefixes of a source zone that are never exported, whoever asks: in models, what inference
 * endpoints capture (the requests and responses of the applications that call them, which may
 * carry what patients told a clinician) and what the airlock imported (it came from outside, and
 * an importer may have put any data there as a "model"). The desk refuses them, the workflow
 * refuses them, and the models bucket refuses the exporter's reads of them.
 */
export const NOT_EXPORTED: Readonly<Record<string, readonly string[]>> = {
  models: [DATA_CAPTURE_PREFIX, IMPORTED_PREFIX],
};

/** Why `key` of `zone` may not be exported; undefined when it may be asked for. */
export function notExported(zone: string, key: string): string | undefined {
  const prefix = (NOT_EXPORTED[zone] ?? []).find((p) => key.startsWith(p));
  return prefix
    ? `${zone}/${prefix} is never exported (${prefix === IMPORTED_PREFIX ? 'it came in through the airlock' : 'what inference endpoints capture'})`
    : undefined;
}
