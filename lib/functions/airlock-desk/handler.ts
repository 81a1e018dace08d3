import {
  DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  IMPORT_KINDS,
  importKey,
  invalidPath,
  MIN_ACCEPTANCE_REASON,
  MIN_REASON,
  notExported,
  sameRequester,
  type Decision,
  type ExportRequest,
  type ImportKind,
} from '../../airlock';

/**
 * The airlock's desk, behind an IAM-authorised function URL: who calls is who AWS authenticated
 * (the URL's request context), never what a body says. Importers ask where to upload; requesters
 * (data scientists, ML engineers) ask for an export, which starts the export workflow; reviewers
 * list what waits and decide, and a decision reaches the waiting workflow through its task token.
 */

/** The parts of a function URL event the desk reads. */
export interface UrlEvent {
  readonly rawPath?: string;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: {
    readonly requestId?: string;
    readonly http?: { readonly method?: string };
    readonly authorizer?: { readonly iam?: { readonly userArn?: string; readonly userId?: string } };
  };
}

export interface UrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface DeskConfig {
  readonly table: string;
  /** The import zone's bucket, where importers upload. */
  readonly importBucket: string;
  /** The names of the roles that may use each part of the desk. */
  readonly importerRole: string;
  readonly reviewerRole: string;
  /** With an export: the workflow a request starts, and the zones each requester role may ask out of. */
  readonly exportWorkflowArn?: string;
  readonly requesters?: Readonly<Record<string, readonly string[]>>;
  readonly now?: () => Date;
  readonly newId?: () => string;
}

/** A request as the desk shows it: the item without its task token. */
export type RequestView = Record<string, string | number>;

const json = (statusCode: number, body: unknown): UrlResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** The role name and session of an assumed-role ARN; undefined for any other principal. */
export function callerRole(userArn: string | undefined): { role: string; session: string } | undefined {
  const match = /^arn:aws[\w-]*:sts::\d{12}:assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+)$/.exec(userArn ?? '');
  return match ? { role: match[1], session: match[2] } : undefined;
}

function view(item: Record<string, AttributeValue>): RequestView {
  const out: RequestView = {};
  for (const [name, value] of Object.entries(item)) {
    if (name === 'taskToken') continue;
    if (value.S !== undefined) out[name] = value.S;
    else if (value.N !== undefined) out[name] = Number(value.N);
  }
  return out;
}

export function makeDesk(
  clients: { dynamodb: Pick<DynamoDBClient, 'send'>; sfn: Pick<SFNClient, 'send'> },
  config: DeskConfig,
  // An object, which Lambda's JSON log format keeps as the record's message (the refusal alarm's
  // metric filter reads $.message.message); a string would be kept as a string.
  log: (entry: Record<string, unknown>) => void = (entry) => console.log(entry),
) {
  const now = config.now ?? (() => new Date());

  const getItem = async (requestId: string) =>
    (
      await clients.dynamodb.send(
        new GetItemCommand({
          TableName: config.table,
          Key: { requestId: { S: requestId } },
          ConsistentRead: true,
        }),
      )
    ).Item;

  function imports(caller: { userId: string }, body: Record<string, unknown>): UrlResult {
    const { kind, path } = body;
    if (typeof kind !== 'string' || !(IMPORT_KINDS as string[]).includes(kind))
      return json(400, { error: `kind: expected one of ${IMPORT_KINDS.join(', ')}, got ${String(kind)}` });
    const bad = typeof path === 'string' ? invalidPath(path) : 'path: expected a string';
    if (bad || typeof path !== 'string') return json(400, { error: bad });
    return json(200, {
      bucket: config.importBucket,
      key: importKey(caller.userId, kind as ImportKind, path),
    });
  }

  async function exports(
    caller: { userArn: string; userId: string },
    zones: readonly string[],
    body: Record<string, unknown>,
  ): Promise<UrlResult> {
    const { source, key, reason } = body;
    if (typeof source !== 'string' || !zones.includes(source)) {
      log({ message: 'refused', caller: caller.userArn, why: 'export source', source });
      return json(403, {
        error: `source: your role may ask for exports out of ${zones.join(', ')} only, got ${String(source)}`,
      });
    }
    const bad = typeof key === 'string' ? invalidPath(key) : 'key: expected a string';
    if (bad || typeof key !== 'string') return json(400, { error: bad });
    const excluded = notExported(source, key);
    if (excluded) {
      log({ message: 'refused', caller: caller.userArn, why: excluded, source, key });
      return json(403, { error: `key: ${excluded}` });
    }
    if (typeof reason !== 'string' || reason.trim().length < MIN_REASON)
      return json(400, { error: `reason: expected at least ${MIN_REASON} characters saying why it leaves` });
    const request: ExportRequest = {
      requestId: (config.newId ?? randomUUID)(),
      requesterArn: caller.userArn,
      requesterId: caller.userId,
      source,
      key,
      reason: reason.trim(),
      requestedAt: now().toISOString(),
    };
    await clients.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: config.exportWorkflowArn,
        name: request.requestId,
        input: JSON.stringify(request),
      }),
    );
    log({ message: 'export requested', requestId: request.requestId, caller: caller.userArn });
    return json(202, request);
  }

  async function list(caller: { userId: string }, reviewer: boolean): Promise<UrlResult> {
    const items: RequestView[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await clients.dynamodb.send(
        new ScanCommand({ TableName: config.table, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      for (const item of page.Items ?? []) {
        const shown = view(item);
        if (reviewer || shown.requesterId === caller.userId) items.push(shown);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    items.sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    return json(200, { requests: items });
  }

  async function show(caller: { userId: string }, reviewer: boolean, requestId: string): Promise<UrlResult> {
    const item = await getItem(requestId);
    if (!item || (!reviewer && item.requesterId?.S !== caller.userId))
      return json(404, { error: `no request ${requestId}` });
    return json(200, view(item));
  }

  async function decide(
    caller: { userArn: string; userId: string },
    requestId: string,
    body: Record<string, unknown>,
  ): Promise<UrlResult> {
    const { decision, reason, codeExecutionAccepted } = body;
    if (decision !== 'approve' && decision !== 'reject')
      return json(400, { error: `decision: expected approve or reject, got ${String(decision)}` });
    if (typeof reason !== 'string' || reason.trim().length < MIN_REASON)
      return json(400, { error: `reason: expected at least ${MIN_REASON} characters saying why` });
    const item = await getItem(requestId);
    if (!item) return json(404, { error: `no request ${requestId}` });
    if (item.state?.S !== 'awaiting-review')
      return json(409, { error: `request ${requestId} is ${item.state?.S}, not awaiting review` });
    const same = sameRequester(item.requesterId?.S ?? '', caller.userId);
    if (same) {
      log({ message: 'refused', requestId, caller: caller.userArn, why: same });
      return json(403, { error: same });
    }
    const runsCode = item.codeExecution?.S;
    const accepted = typeof codeExecutionAccepted === 'string' ? codeExecutionAccepted.trim() : '';
    if (decision === 'approve' && runsCode && accepted.length < MIN_ACCEPTANCE_REASON)
      return json(422, {
        error:
          `request ${requestId} is held: ${runsCode}. Approving it needs codeExecutionAccepted, at least ` +
          `${MIN_ACCEPTANCE_REASON} characters saying why running its code on load is accepted`,
      });
    const token = item.taskToken?.S;
    if (!token) return json(409, { error: `request ${requestId} has no workflow waiting for it` });
    const record: Decision = {
      decision,
      reason: reason.trim(),
      ...(decision === 'approve' && runsCode ? { codeExecutionAccepted: accepted } : {}),
      reviewerArn: caller.userArn,
      reviewerId: caller.userId,
      decidedAt: now().toISOString(),
    };
    const state = decision === 'approve' ? 'approved' : 'rejected';
    // Claimed first (one decision per request), then handed to the workflow; given back if that fails.
    try {
      await clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: config.table,
          Key: { requestId: { S: requestId } },
          ConditionExpression: '#state = :waiting AND taskToken = :token',
          UpdateExpression:
            'SET #state = :state, reviewerArn = :arn, reviewerId = :id, reviewReason = :reason, decidedAt = :at' +
            (record.codeExecutionAccepted ? ', codeExecutionAccepted = :accepted' : ''),
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':waiting': { S: 'awaiting-review' },
            ':token': { S: token },
            ':state': { S: state },
            ':arn': { S: record.reviewerArn },
            ':id': { S: record.reviewerId },
            ':reason': { S: record.reason },
            ':at': { S: record.decidedAt },
            ...(record.codeExecutionAccepted ? { ':accepted': { S: record.codeExecutionAccepted } } : {}),
          },
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException')
        return json(409, { error: `request ${requestId} was decided meanwhile` });
      throw err;
    }
    try {
      await clients.sfn.send(
        new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(record) }),
      );
    } catch (err) {
      await clients.dynamodb.send(
        new UpdateItemCommand({
          TableName: config.table,
          Key: { requestId: { S: requestId } },
          ConditionExpression: '#state = :state',
          UpdateExpression: 'SET #state = :waiting REMOVE reviewerArn, reviewerId, reviewReason, decidedAt',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':state': { S: state }, ':waiting': { S: 'awaiting-review' } },
        }),
      );
      const name = (err as { name?: string }).name;
      if (name === 'TaskTimedOut' || name === 'TaskDoesNotExist' || name === 'InvalidToken')
        return json(409, { error: `request ${requestId}'s workflow no longer waits (${name})` });
      throw err;
    }
    log({ message: 'decided', requestId, caller: caller.userArn, decision });
    return json(200, { requestId, state, ...record });
  }

  return async (event: UrlEvent): Promise<UrlResult> => {
    const iam = event.requestContext?.authorizer?.iam;
    const role = callerRole(iam?.userArn);
    if (!iam?.userArn || !iam.userId || !role)
      return json(403, { error: 'the desk answers assumed roles only' });
    const caller = { userArn: iam.userArn, userId: iam.userId };
    const importer = role.role === config.importerRole;
    const reviewer = role.role === config.reviewerRole;
    const exportZones = config.exportWorkflowArn ? config.requesters?.[role.role] : undefined;
    if (!importer && !reviewer && !exportZones)
      return json(403, { error: `role ${role.role} has no part in the airlock` });
    let body: Record<string, unknown> = {};
    if (event.body) {
      try {
        const text = Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8').toString('utf8');
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          body = parsed as Record<string, unknown>;
        else return json(400, { error: 'expected a JSON object' });
      } catch {
        return json(400, { error: 'expected a JSON object' });
      }
    }
    const method = event.requestContext?.http?.method ?? 'GET';
    const path = (event.rawPath ?? '/').replace(/\/+$/, '') || '/';
    const requestMatch = /^\/requests\/([\w-]{1,128})(\/decision)?$/.exec(path);
    if (method === 'POST' && path === '/imports') {
      if (!importer) return json(403, { error: 'only importers upload' });
      return imports(caller, body);
    }
    if (method === 'POST' && path === '/exports') {
      if (!exportZones) return json(403, { error: 'only data scientists and ML engineers ask for exports' });
      return exports(caller, exportZones, body);
    }
    if (method === 'GET' && path === '/requests') return list(caller, reviewer);
    if (method === 'GET' && requestMatch && !requestMatch[2]) return show(caller, reviewer, requestMatch[1]);
    if (method === 'POST' && requestMatch?.[2]) {
      if (!reviewer) return json(403, { error: 'only reviewers decide' });
      return decide(caller, requestMatch[1], body);
    }
    return json(404, { error: `no route ${method} ${path}` });
  };
}

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

let desk: ReturnType<typeof makeDesk> | undefined;

export const handler = async (event: UrlEvent): Promise<UrlResult> => {
  desk ??= makeDesk(
    { dynamodb: new DynamoDBClient({}), sfn: new SFNClient({}) },
    {
      table: env('REQUESTS_TABLE'),
      importBucket: env('IMPORT_BUCKET'),
      importerRole: env('IMPORTER_ROLE'),
      reviewerRole: env('REVIEWER_ROLE'),
      ...(process.env.EXPORT_WORKFLOW_ARN
        ? {
            exportWorkflowArn: process.env.EXPORT_WORKFLOW_ARN,
            requesters: JSON.parse(env('EXPORT_REQUESTERS')) as Record<string, string[]>,
          }
        : {}),
    },
  );
  return desk(event);
};
