import { DynamoDBClient, GetItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { callerRole, makeDesk, type UrlEvent } from '../../../lib/functions/airlock-desk/handler';

const dynamodb = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);

const ACCOUNT = '123456789012';
const IMPORTER = { role: 'aiseg-airlock-importer', id: 'AROAEXAMPLEIMPORTER1' };
const REVIEWER = { role: 'aiseg-airlock-reviewer', id: 'AROAEXAMPLEREVIEWER1' };
const SCIENTIST = { role: 'aiseg-data-scientist', id: 'AROAEXAMPLESCIENCE01' };
const EXPORTS = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:aiseg-airlock-export`;
const as = (role: { role: string; id: string }, session: string) => ({
  userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.role}/${session}`,
  userId: `${role.id}:${session}`,
});

function call(
  who: { userArn: string; userId: string } | undefined,
  method: string,
  rawPath: string,
  body?: unknown,
): UrlEvent {
  return {
    rawPath,
    body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)).toString('base64'),
    isBase64Encoded: true,
    requestContext: { http: { method }, ...(who ? { authorizer: { iam: who } } : {}) },
  };
}

const waiting = (extra: Record<string, { S: string }> = {}) => ({
  requestId: { S: 'req-1' },
  state: { S: 'awaiting-review' },
  requesterId: { S: `${IMPORTER.id}:alice` },
  taskToken: { S: 'token-1' },
  createdAt: { S: '2026-12-01T09:00:00Z' },
  ...extra,
});

function desk(exporting = false) {
  const lines: string[] = [];
  const handle = makeDesk(
    { dynamodb: new DynamoDBClient({}), sfn: new SFNClient({}) },
    {
      table: 'requests',
      importBucket: 'aiseg-airlock-import',
      importerRole: IMPORTER.role,
      reviewerRole: REVIEWER.role,
      now: () => new Date('2026-12-01T10:00:00Z'),
      newId: () => '6f1c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f',
      ...(exporting ? { exportWorkflowArn: EXPORTS, requesters: { [SCIENTIST.role]: ['curated'] } } : {}),
    },
    (entry) => lines.push(JSON.stringify(entry)),
  );
  return { handle, lines };
}
const parse = (r: { body: string }) => JSON.parse(r.body) as Record<string, unknown>;

beforeEach(() => {
  dynamodb.reset();
  sfn.reset();
});

describe('the airlock desk', () => {
  test('reads the caller from the assumed-role ARN AWS authenticated', () => {
    expect(callerRole(`arn:aws:sts::${ACCOUNT}:assumed-role/aiseg-airlock-reviewer/bob`)).toEqual({
      role: 'aiseg-airlock-reviewer',
      session: 'bob',
    });
    expect(callerRole(`arn:aws:iam::${ACCOUNT}:user/bob`)).toBeUndefined();
  });

  test('answers no one without an authenticated assumed role, and no role outside the airlock', async () => {
    const { handle } = desk();
    expect((await handle(call(undefined, 'GET', '/requests'))).statusCode).toBe(403);
    const other = await handle(
      call(as({ role: 'aiseg-data-scientist', id: 'AROAEXAMPLEOTHER0001' }, 'eve'), 'GET', '/requests'),
    );
    expect(other.statusCode).toBe(403);
    expect(parse(other).error).toContain('no part in the airlock');
  });

  test("tells an importer where to upload: under its own session's id, never another's", async () => {
    const { handle } = desk();
    const result = await handle(
      call(as(IMPORTER, 'alice'), 'POST', '/imports', {
        kind: 'dataset',
        path: 'clinical/a.csv',
        requesterId: 'X:y',
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(parse(result)).toEqual({
      bucket: 'aiseg-airlock-import',
      key: `incoming/${IMPORTER.id}:alice/dataset/clinical/a.csv`,
    });
    const bad = await handle(
      call(as(IMPORTER, 'alice'), 'POST', '/imports', { kind: 'script', path: 'a.sh' }),
    );
    expect(bad.statusCode).toBe(400);
    expect(parse(bad).error).toContain('kind: expected one of dataset, model');
    // A reviewer uploads nothing.
    expect(
      (await handle(call(as(REVIEWER, 'bob'), 'POST', '/imports', { kind: 'dataset', path: 'a.csv' })))
        .statusCode,
    ).toBe(403);
  });

  test('an approval reaches the workflow with the identity AWS authenticated, not the body', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: waiting() });
    dynamodb.on(UpdateItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).resolves({});
    const { handle, lines } = desk();
    const result = await handle(
      call(as(REVIEWER, 'bob'), 'POST', '/requests/req-1/decision', {
        decision: 'approve',
        reason: 'Cohort extract agreed under DSA-2026-14',
        reviewerArn: 'arn:aws:sts::123456789012:assumed-role/someone-else/mallory',
      }),
    );
    expect(result.statusCode).toBe(200);
    const sent = sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input;
    expect(sent.taskToken).toBe('token-1');
    expect(JSON.parse(sent.output!)).toEqual({
      decision: 'approve',
      reason: 'Cohort extract agreed under DSA-2026-14',
      reviewerArn: as(REVIEWER, 'bob').userArn,
      reviewerId: as(REVIEWER, 'bob').userId,
      decidedAt: '2026-12-01T10:00:00.000Z',
    });
    // Claimed only while it waits with this token.
    const update = dynamodb.commandCalls(UpdateItemCommand)[0].args[0].input;
    expect(update.ConditionExpression).toBe('#state = :waiting AND taskToken = :token');
    expect(update.ExpressionAttributeValues?.[':state']).toEqual({ S: 'approved' });
    expect(lines.some((l) => l.includes('"decided"'))).toBe(true);
  });

  test('a reviewer who is also the requester is refused, by role and by session', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: waiting({ requesterId: { S: `${REVIEWER.id}:bob` } }) });
    const { handle, lines } = desk();
    const sameRole = await handle(
      call(as(REVIEWER, 'bob'), 'POST', '/requests/req-1/decision', {
        decision: 'approve',
        reason: 'looks fine to me',
      }),
    );
    expect(sameRole.statusCode).toBe(403);
    expect(parse(sameRole).error).toContain('may not request and approve');
    dynamodb.on(GetItemCommand).resolves({ Item: waiting() });
    const samePerson = await handle(
      call(as(REVIEWER, 'Alice'), 'POST', '/requests/req-1/decision', {
        decision: 'approve',
        reason: 'looks fine to me',
      }),
    );
    expect(samePerson.statusCode).toBe(403);
    expect(parse(samePerson).error).toContain('same person');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(dynamodb.commandCalls(UpdateItemCommand)).toHaveLength(0);
    expect(lines.filter((l) => l.includes('"refused"'))).toHaveLength(2);
  });

  test('an object that runs code when loaded is held until the reviewer accepts that with a reason', async () => {
    dynamodb.on(GetItemCommand).resolves({
      Item: waiting({ codeExecution: { S: 'its name ends in .bin, a format that runs code when loaded' } }),
    });
    dynamodb.on(UpdateItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).resolves({});
    const { handle } = desk();
    const plain = await handle(
      call(as(REVIEWER, 'bob'), 'POST', '/requests/req-1/decision', {
        decision: 'approve',
        reason: 'model for eval',
      }),
    );
    expect(plain.statusCode).toBe(422);
    expect(parse(plain).error).toContain('needs codeExecutionAccepted');
    const short = await handle(
      call(as(REVIEWER, 'bob'), 'POST', '/requests/req-1/decision', {
        decision: 'approve',
        reason: 'model for eval',
        codeExecutionAccepted: 'fine',
      }),
    );
    expect(short.statusCode).toBe(422);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    const accepted = await handle(
      call(as(REVIEWER, 'bob'), 'POST', '/requests/req-1/decision', {
        decision: 'approve',
        reason: 'model for eval',
        codeExecutionAccepted: 'Vendor checkpoint, loaded only in the training segment without internet',
      }),
    );
    expect(accepted.statusCode).toBe(200);
    expect(JSON.parse(sfn.commandCalls(SendTaskSuccessCommand)[0].args[0].input.output!)).toMatchObject({
      codeExecutionAccepted: 'Vendor checkpoint, loaded only in the training segment without internet',
    });
    // Rejecting needs no acceptance.
    sfn.reset();
    sfn.on(SendTaskSuccessCommand).resolves({});
    const rejected = await handle(
      call(as(REVIEWER, 'bob'), 'POST', '/requests/req-1/decision', {
        decision: 'reject',
        reason: 'unknown provenance',
      }),
    );
    expect(rejected.statusCode).toBe(200);
  });

  test('a decision needs a reason, a waiting request, and a workflow still waiting', async () => {
    const { handle } = desk();
    const noReason = await handle(
      call(as(REVIEWER, 'bob'), 'POST', '/requests/req-1/decision', { decision: 'approve' }),
    );
    expect(noReason.statusCode).toBe(400);
    dynamodb.on(GetItemCommand).resolves({ Item: waiting({ state: { S: 'quarantined' } }) });
    const held = await handle(
      call(as(REVIEWER, 'bob'), 'POST', '/requests/req-1/decision', {
        decision: 'approve',
        reason: 'clean enough',
      }),
    );
    expect(held.statusCode).toBe(409);
    expect(parse(held).error).toContain('is quarantined');

    dynamodb.on(GetItemCommand).resolves({ Item: waiting() });
    dynamodb.on(UpdateItemCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('timed out'), { name: 'TaskTimedOut' }));
    const late = await handle(
      call(as(REVIEWER, 'bob'), 'POST', '/requests/req-1/decision', {
        decision: 'approve',
        reason: 'clean enough',
      }),
    );
    expect(late.statusCode).toBe(409);
    // The claim is given back.
    const [, giveBack] = dynamodb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(giveBack.UpdateExpression).toContain('SET #state = :waiting');
  });

  test('two reviewers deciding at once: the second is told it was decided', async () => {
    dynamodb.on(GetItemCommand).resolves({ Item: waiting() });
    dynamodb
      .on(UpdateItemCommand)
      .rejects(Object.assign(new Error('condition'), { name: 'ConditionalCheckFailedException' }));
    const { handle } = desk();
    const second = await handle(
      call(as(REVIEWER, 'carol'), 'POST', '/requests/req-1/decision', {
        decision: 'reject',
        reason: 'not needed now',
      }),
    );
    expect(second.statusCode).toBe(409);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  test('reviewers see every request; importers their own; no one sees a task token', async () => {
    dynamodb.on(ScanCommand).resolves({
      Items: [waiting(), waiting({ requestId: { S: 'req-2' }, requesterId: { S: `${IMPORTER.id}:dave` } })],
    });
    const { handle } = desk();
    const all = parse(await handle(call(as(REVIEWER, 'bob'), 'GET', '/requests')));
    expect((all.requests as unknown[]).length).toBe(2);
    expect(JSON.stringify(all)).not.toContain('token-1');
    const own = parse(await handle(call(as(IMPORTER, 'alice'), 'GET', '/requests')));
    expect((own.requests as { requestId: string }[]).map((r) => r.requestId)).toEqual(['req-1']);
    dynamodb.on(GetItemCommand).resolves({ Item: waiting({ requesterId: { S: `${IMPORTER.id}:dave` } }) });
    expect((await handle(call(as(IMPORTER, 'alice'), 'GET', '/requests/req-1'))).statusCode).toBe(404);
    // Importers do not decide.
    expect(
      (
        await handle(
          call(as(IMPORTER, 'alice'), 'POST', '/requests/req-1/decision', {
            decision: 'approve',
            reason: 'mine, trust me',
          }),
        )
      ).statusCode,
    ).toBe(403);
  });

  test('a requester asks for an export: the workflow starts, named by the request, with the caller AWS authenticated', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${EXPORTS}:x` });
    const { handle, lines } = desk(true);
    const alice = as(SCIENTIST, 'alice');
    const answer = await handle(
      call(alice, 'POST', '/exports', {
        source: 'curated',
        key: 'cohorts/c7/summary.csv',
        reason: 'Results for the partner study PS-7',
        // A body's claim of who asks is ignored.
        requesterArn: 'arn:aws:sts::123456789012:assumed-role/aiseg-airlock-reviewer/bob',
      }),
    );
    expect(answer.statusCode).toBe(202);
    const [start] = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
    expect(start.stateMachineArn).toBe(EXPORTS);
    expect(start.name).toBe('6f1c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f');
    expect(JSON.parse(start.input!)).toEqual({
      requestId: '6f1c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f',
      requesterArn: alice.userArn,
      requesterId: alice.userId,
      source: 'curated',
      key: 'cohorts/c7/summary.csv',
      reason: 'Results for the partner study PS-7',
      requestedAt: '2026-12-01T10:00:00.000Z',
    });
    expect(lines.some((l) => l.includes('"export requested"'))).toBe(true);
  });

  test('an export from a zone the role may not ask out of is refused and logged for the alarm; a short reason is refused', async () => {
    const { handle, lines } = desk(true);
    const refused = await handle(
      call(as(SCIENTIST, 'alice'), 'POST', '/exports', {
        source: 'raw',
        key: 'a.csv',
        reason: 'the raw file please',
      }),
    );
    expect(refused.statusCode).toBe(403);
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ message: 'refused', source: 'raw' }),
    );
    expect(
      (
        await handle(
          call(as(SCIENTIST, 'alice'), 'POST', '/exports', { source: 'curated', key: 'a.csv', reason: 'x' }),
        )
      ).statusCode,
    ).toBe(400);
    // Reviewers and importers ask for nothing; and without an export configured, nobody does.
    for (const who of [as(REVIEWER, 'bob'), as(IMPORTER, 'dora')])
      expect(
        (
          await handle(
            call(who, 'POST', '/exports', { source: 'curated', key: 'a.csv', reason: 'results please' }),
          )
        ).statusCode,
      ).toBe(403);
    expect(
      (
        await desk(false).handle(
          call(as(SCIENTIST, 'alice'), 'POST', '/exports', {
            source: 'curated',
            key: 'a.csv',
            reason: 'results please',
          }),
        )
      ).statusCode,
    ).toBe(403);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});
