import { GenerateMacCommand } from '@aws-sdk/client-kms';
import {
  makeHandler,
  type ObjectCreatedEvent,
  type StageEvent,
} from '../../../lib/functions/pseudonymize/handler';
import type { Manifest } from '../../../lib/functions/pseudonymize/manifest';
import { processObject, quarantineWhole, type StageConfig } from '../../../lib/functions/pseudonymize/stage';
import { runName, type PlanAnswer } from '../../../lib/functions/pseudonymize/stage-ranges';
import { KmsMac, Tokenizer } from '../../../lib/functions/pseudonymize/tokenizer';
import { rangeWorkflow } from '../../../lib/stacks/pseudonymization-workflow';
import { execute, substitute } from '../../support/states';
import { FakeKms, FakeS3, FakeSfn, HMAC_KEY, RANGES, stageConfig } from './fakes';
import { SYNTHETIC_CSV_RULES, SYNTHETIC_JSONL_RULES, syntheticCsv, type Synthetic } from './synthetic';

/**
 * The range workflow as its state machine runs it: the raw object's event routes a large object
 * to a run; the run plans it, transforms its ranges side by side and assembles them, each step an
 * invocation of the stage's function with the step's event.
 */

const single: StageConfig = stageConfig([SYNTHETIC_CSV_RULES, SYNTHETIC_JSONL_RULES], 1024 ** 3);
const config = { ...single, singlePassBytes: 100 * 1024, ranges: RANGES };

/**
 * The buckets the stage's role may list (the raw zone's read grant; TellMissingPartsFromRefusals
 * on the staging store): S3 answers a missing key elsewhere with 403.
 */
const LISTABLE = ['raw', 'staging'];

function world(listable: readonly string[] = LISTABLE) {
  const s3 = new FakeS3(
    {
      curated: config.curatedKeyArn,
      quarantine: config.quarantineKeyArn,
      staging: RANGES.staging.keyArn,
    },
    listable,
  );
  const sfn = new FakeSfn();
  const tokenizer = new Tokenizer(
    new KmsMac(new FakeKms(HMAC_KEY), HMAC_KEY, (i) => new GenerateMacCommand(i)),
  );
  const logged: string[] = [];
  const handler = makeHandler(s3, tokenizer, config, sfn);
  const invoke = (event: StageEvent) => {
    sink = logged;
    return handler(event);
  };
  return { s3, sfn, tokenizer, logged, invoke };
}

/** Where the handler's log lines go: the world invoking it (worlds are not invoked at once). */
let sink: string[] = [];
let spy: jest.SpyInstance;
beforeAll(() => {
  spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void sink.push(line));
});
afterAll(() => spy.mockRestore());

const created = (key: string, versionId: string, size: number): ObjectCreatedEvent => ({
  'detail-type': 'Object Created',
  detail: { bucket: { name: 'raw' }, object: { key, size, 'version-id': versionId } },
});

const staged = (s3: FakeS3) => s3.keys('staging');

const STAGE = 'arn:aws:lambda:eu-west-1:123456789012:function:aiseg-pseudonymization';
/** The workflow's definition as deployed: the blueprint's, with CloudFormation's substitutions made. */
const definition = substitute(rangeWorkflow({ maxConcurrency: 4 }), { Partition: 'aws', Stage: STAGE });

/**
 * Runs a started run as its state machine does: the blueprint's definition, evaluated with the
 * JSONata engine, whose every step invokes the stage's handler with what the definition hands it.
 */
async function run(w: ReturnType<typeof world>, name: string) {
  const input = JSON.parse(w.sfn.started.get(name)!.input) as unknown;
  const steps: StageEvent[] = [];
  const answers: unknown[] = [];
  const execution = await execute(definition, input, async (call) => {
    expect(call.resource).toBe('arn:aws:states:::lambda:invoke');
    const { FunctionName, Payload } = call.args as { FunctionName: string; Payload: StageEvent };
    expect(FunctionName).toBe(STAGE);
    steps.push(Payload);
    const answer = await w.invoke(Payload);
    answers.push(answer);
    return { Payload: answer, StatusCode: 200 };
  });
  expect(execution.status).toBe('SUCCEEDED');
  return { execution, steps, plan: answers[0] as PlanAnswer };
}

describe('a raw object larger than one invocation processes', () => {
  // A raw key that names a patient, as uploaders' file names do.
  const key = 'synthetic/patients/2026/jane-doe-MRN-55501.csv';
  let data: Synthetic;
  const w = world();
  const reference = world();
  let version: string;
  let name: string;
  beforeAll(async () => {
    data = syntheticCsv();
    expect(data.bytes.length).toBeGreaterThan(config.singlePassBytes);
    version = w.s3.put('raw', key, data.bytes);
    expect(reference.s3.put('raw', key, data.bytes)).toBe(version);
    const routed = await w.invoke(created(key, version, data.bytes.length));
    expect(routed).toMatchObject({ status: 'routed', dataset: SYNTHETIC_CSV_RULES.name });
    name = (routed as { run: string }).run;
    // The same file in one pass, for comparison.
    const outcome = await processObject(reference.s3, reference.tokenizer, single, {
      bucket: 'raw',
      key,
      versionId: version,
    });
    expect(outcome.status).toBe('pseudonymized');
  }, 120_000);

  test('starts one run, named by the version, whose input holds no key and no value of the file', () => {
    expect([...w.sfn.started.keys()]).toEqual([name]);
    expect(name).toBe(
      runName((JSON.parse(w.sfn.started.get(name)!.input) as { keyToken: string }).keyToken, version),
    );
    expect(name).toMatch(/^[0-9a-f]{64}$/);
    const { stateMachineArn, input } = w.sfn.started.get(name)!;
    expect(stateMachineArn).toBe(RANGES.workflowArn);
    expect(Object.keys(JSON.parse(input) as object).sort()).toEqual(['keyToken', 'versionId']);
    expect(input).not.toContain('jane-doe');
    // The key waits in the staging store, encrypted with its key.
    const requests = staged(w.s3).filter((k) => k.endsWith('/request.json'));
    expect(requests).toHaveLength(1);
    expect(w.s3.latest('staging', requests[0])!.params).toMatchObject({ SSEKMSKeyId: RANGES.staging.keyArn });
    // Nothing of the raw object was read for the routing but its head.
    expect(w.s3.gets.filter((g) => g.startsWith('raw/'))).toEqual([]);
  });

  test('an event delivered twice starts no second run', async () => {
    await expect(w.invoke(created(key, version, data.bytes.length))).resolves.toMatchObject({
      status: 'routed',
      run: name,
    });
    expect(w.sfn.calls).toEqual([`StartExecution ${name}`, `StartExecution ${name}`]);
    expect(w.sfn.started.size).toBe(1);
  });

  describe('its run', () => {
    let plan: PlanAnswer;
    let ran: Awaited<ReturnType<typeof run>>;
    beforeAll(async () => {
      ran = await run(w, name);
      plan = ran.plan;
    }, 120_000);

    test('plans, transforms each range once (side by side) and assembles, the steps naming tokens only', () => {
      expect(ran.execution.path).toEqual(['Plan', 'Planned', 'Ranges', 'Assemble']);
      expect(ran.steps.map((s) => ('phase' in s ? s.phase : 'event'))).toEqual([
        'plan',
        ...plan.items.map(() => 'range'),
        'assemble',
      ]);
      const ranges = ran.steps.filter((s) => 'index' in s) as { index: number }[];
      expect(ranges.map((s) => s.index).sort((a, b) => a - b)).toEqual(plan.items);
      for (const s of ran.steps)
        expect(Object.keys(s).sort()).toEqual(expect.arrayContaining(['keyToken', 'phase', 'versionId']));
      expect(JSON.stringify(ran.steps)).not.toContain('jane-doe');
      const manifestKey = w.s3.keys('curated').find((k) => k.endsWith('.manifest.json'))!;
      const manifest = JSON.parse(w.s3.text('curated', manifestKey)) as Manifest;
      expect(ran.execution.output).toEqual({ outcome: 'pseudonymized', records: manifest.output.records });
    });

    test('writes the curated object, its quarantine and its manifest as one pass writes them', () => {
      expect(plan.outcome).toBe('planned');
      expect(plan.items.length).toBeGreaterThan(3);
      expect(w.s3.keys('curated')).toEqual(reference.s3.keys('curated'));
      for (const k of reference.s3.keys('curated'))
        expect(w.s3.text('curated', k)).toBe(reference.s3.text('curated', k));
      expect(w.s3.keys('quarantine')).toEqual(reference.s3.keys('quarantine'));
      for (const k of reference.s3.keys('quarantine'))
        expect(w.s3.text('quarantine', k)).toBe(reference.s3.text('quarantine', k));
      const manifestKey = w.s3.keys('curated').find((k) => k.endsWith('.manifest.json'))!;
      const manifest = JSON.parse(w.s3.text('curated', manifestKey)) as Manifest;
      expect(manifest.source.records).toBe(data.records);
      expect(manifest.source.records).toBe(manifest.output.records + manifest.quarantine.records);
    });

    test("leaves nothing in the staging store but the run's end, which names no key", () => {
      const input = JSON.parse(w.sfn.started.get(name)!.input) as { keyToken: string; versionId: string };
      const done = `runs/${input.keyToken}/${input.versionId}/done.json`;
      expect(staged(w.s3)).toEqual([done]);
      expect(w.s3.text('staging', done)).not.toContain('jane-doe');
      expect(w.s3.uploads.size).toBe(0);
    });

    test('the event delivered again after the run ended stages nothing and starts nothing', async () => {
      const before = w.s3.calls.length;
      await expect(w.invoke(created(key, version, data.bytes.length))).resolves.toMatchObject({
        status: 'routed',
        run: name,
      });
      expect(w.s3.calls.slice(before).filter((c) => c.startsWith('PutObject'))).toEqual([]);
      expect(staged(w.s3)).toHaveLength(1);
      expect(w.sfn.started.size).toBe(1);
    });

    test('a step redriven after the run ended writes nothing again', async () => {
      const input = JSON.parse(w.sfn.started.get(name)!.input) as { keyToken: string; versionId: string };
      const before = w.s3.calls.length;
      await expect(w.invoke({ phase: 'assemble', ...input })).resolves.toMatchObject({
        outcome: 'pseudonymized',
      });
      await expect(w.invoke({ phase: 'plan', ...input })).resolves.toEqual({
        outcome: 'pseudonymized',
        items: [],
      });
      expect(w.s3.calls.slice(before).filter((c) => /^(PutObject|CompleteMultipart)/.test(c))).toEqual([]);
    });

    test("logs each step by the key's token and counts, never the key or a value of the file", () => {
      const steps = w.logged.map((l) => JSON.parse(l) as { message: string; phase?: string });
      const run = steps
        .filter((s) => s.message === 'pseudonymization run step')
        .slice(0, plan.items.length + 2);
      expect(run.map((s) => s.phase)).toEqual(['plan', ...plan.items.map(() => 'range'), 'assemble']);
      const all = w.logged.join('\n');
      expect(all).not.toContain('jane-doe');
      for (const value of data.identifiers) expect(all).not.toContain(value);
    });
  });
});

test('an assemble step retried after the manifest was written finishes the clean-up and writes nothing again', async () => {
  const w = world();
  const key = 'synthetic/patients/2026/retry.csv';
  const bytes = syntheticCsv(1500, 3).bytes;
  const version = w.s3.put('raw', key, bytes);
  const routed = (await w.invoke(created(key, version, bytes.length))) as { run: string };
  const input = JSON.parse(w.sfn.started.get(routed.run)!.input) as { keyToken: string; versionId: string };
  const plan = (await w.invoke({ phase: 'plan', ...input })) as PlanAnswer;
  for (const index of plan.items) await w.invoke({ phase: 'range', ...input, index });
  w.s3.failDeletes = true;
  await expect(w.invoke({ phase: 'assemble', ...input })).rejects.toThrow('SlowDown');
  const curated = w.s3.keys('curated');
  expect(curated).toHaveLength(2);
  const versions = curated.map((k) => w.s3.objects.get(`curated/${k}`)!.length);
  w.s3.failDeletes = false;
  const answer = await w.invoke({ phase: 'assemble', ...input });
  expect(answer).toMatchObject({ outcome: 'pseudonymized', records: expect.any(Number) as number });
  // Once more, as a lost answer would make Step Functions retry it: the same answer, nothing written.
  await expect(w.invoke({ phase: 'assemble', ...input })).resolves.toEqual(answer);
  expect(curated.map((k) => w.s3.objects.get(`curated/${k}`)!.length)).toEqual(versions);
  expect(staged(w.s3)).toEqual([`runs/${input.keyToken}/${input.versionId}/done.json`]);
});

test('without leave to list the staging store, no large object could go: S3 would answer 403 for a run not yet ended', async () => {
  const w = world(['raw']);
  const key = 'synthetic/patients/2026/unlisted.csv';
  const bytes = syntheticCsv(1500, 5).bytes;
  const version = w.s3.put('raw', key, bytes);
  await expect(w.invoke(created(key, version, bytes.length))).rejects.toThrow('AccessDenied');
  expect(w.sfn.started.size).toBe(0);
  // A run already started could not take a step either.
  const input = { keyToken: 'A'.repeat(43), versionId: version };
  await expect(w.invoke({ phase: 'plan', ...input })).rejects.toThrow('AccessDenied');
  await expect(w.invoke({ phase: 'assemble', ...input })).rejects.toThrow('AccessDenied');
});

test('a version replaced before its run began ends the run with nothing written', async () => {
  const w = world();
  const key = 'synthetic/patients/2026/replaced.csv';
  const bytes = syntheticCsv(1500, 6).bytes;
  const version = w.s3.put('raw', key, bytes);
  const routed = (await w.invoke(created(key, version, bytes.length))) as { run: string };
  w.s3.put('raw', key, bytes);
  const { plan, execution } = await run(w, routed.run);
  expect(plan).toEqual({ outcome: 'superseded', items: [] });
  expect(execution.path).toEqual(['Plan', 'Planned', 'Ended']);
  expect(w.s3.keys('curated')).toEqual([]);
  expect(w.s3.keys('quarantine')).toEqual([]);
  expect(staged(w.s3)).toHaveLength(1);
});

describe('a step the stage is invoked with is checked before anything is read', () => {
  const w = world();
  const token = 'A'.repeat(43);
  test.each([
    [
      { phase: 'transform', keyToken: token, versionId: 'v1' },
      'phase "transform"; expected plan, range or assemble',
    ],
    [{ phase: 'assemble', keyToken: '../raw', versionId: 'v1' }, 'keyToken is not a key token'],
    [{ phase: 'plan', keyToken: token, versionId: 'v1/../x' }, 'versionId is not an S3 version id'],
    [
      { phase: 'range', keyToken: token, versionId: 'v1', index: -1 },
      'a range step needs a whole index of 0 or more',
    ],
  ])('%j', async (step, message) => {
    const before = w.s3.calls.length;
    await expect(w.invoke(step as unknown as StageEvent)).rejects.toThrow(message);
    expect(w.s3.calls.length).toBe(before);
  });
});

test("an assemble step refuses a job whose key token is not its key's: no staged parts reach curated", async () => {
  const w = world();
  const key = 'synthetic/patients/2026/forged.csv';
  const bytes = syntheticCsv(1500, 7).bytes;
  const version = w.s3.put('raw', key, bytes);
  const routed = (await w.invoke(created(key, version, bytes.length))) as { run: string };
  const input = JSON.parse(w.sfn.started.get(routed.run)!.input) as { keyToken: string; versionId: string };
  const plan = (await w.invoke({ phase: 'plan', ...input })) as PlanAnswer;
  for (const index of plan.items) await w.invoke({ phase: 'range', ...input, index });
  const jobKey = `runs/${input.keyToken}/${input.versionId}/job.json`;
  const job = JSON.parse(w.s3.text('staging', jobKey)) as { key: string };
  w.s3.put('staging', jobKey, JSON.stringify({ ...job, key: 'synthetic/patients/2026/another.csv' }));
  await expect(w.invoke({ phase: 'assemble', ...input })).rejects.toThrow(
    "the job's key token is not its key's",
  );
  // A part replaced after its range wrote it is refused too.
  w.s3.put('staging', jobKey, JSON.stringify(job));
  const part = `runs/${input.keyToken}/${input.versionId}/00001.curated`;
  w.s3.put('staging', part, `${w.s3.text('staging', part)}poisoned\n`);
  await expect(w.invoke({ phase: 'assemble', ...input })).rejects.toThrow(
    'the curated part of range 1 is not the one its range wrote',
  );
  expect(w.s3.keys('curated')).toEqual([]);
  expect(w.s3.uploads.size).toBe(0);
});

test('a run whose file cannot be planned sets the raw version aside whole, with the reason, and stages nothing', async () => {
  const w = world();
  const key = 'synthetic/patients/2026/bad-header.csv';
  const bytes = Buffer.from(`patient_id,patient_id\n${'P-1,P-1\n'.repeat(20_000)}`);
  const version = w.s3.put('raw', key, bytes);
  const routed = (await w.invoke(created(key, version, bytes.length))) as { run: string };
  const { plan, execution } = await run(w, routed.run);
  expect(execution.path).toEqual(['Plan', 'Planned', 'Ended']);
  expect(plan).toEqual({
    outcome: 'quarantined',
    items: [],
    reason: 'header names one column twice (columns 1 and 2)',
  });
  expect(w.s3.latest('quarantine', key)!.body.equals(bytes)).toBe(true);
  expect(JSON.parse(w.s3.text('quarantine', `${key}.reason.json`))).toMatchObject({
    reason: 'header names one column twice (columns 1 and 2)',
  });
  expect(w.s3.keys('curated')).toEqual([]);
  // Its end only, which names the reason and no key.
  expect(staged(w.s3)).toHaveLength(1);
  expect(w.s3.text('staging', staged(w.s3)[0])).not.toContain('bad-header');
});

test('a file over CopyObject’s 5 GiB is set aside in parts copied server-side, none over 5 GiB', async () => {
  const w = world();
  const key = 'synthetic/patients/2026/huge.csv';
  // A stand-in body: the copy is planned on the size the object's head gives.
  const bytes = Buffer.from('patient_id\nP-1\n');
  const versionId = w.s3.put('raw', key, bytes);
  const size = 12 * 1024 ** 3 + 5;
  await quarantineWhole(
    w.s3,
    config,
    { bucket: 'raw', key, versionId },
    'token',
    'a reason',
    undefined,
    size,
  );
  const copies = w.s3.calls.filter((c) => c.startsWith('UploadPartCopy'));
  expect(copies).toEqual([
    `UploadPartCopy quarantine/${key} 1 0-${1024 ** 3 - 1}`,
    ...Array.from({ length: 11 }, (_, i) => {
      const start = (i + 1) * 1024 ** 3;
      return `UploadPartCopy quarantine/${key} ${i + 2} ${start}-${Math.min(start + 1024 ** 3, size) - 1}`;
    }),
    `UploadPartCopy quarantine/${key} 13 ${12 * 1024 ** 3}-${size - 1}`,
  ]);
  expect(w.s3.calls).not.toContain(`CopyObject quarantine/${key}`);
  expect(w.s3.latest('quarantine', key)!.body.equals(bytes)).toBe(true);
  expect(w.s3.latest('quarantine', key)!.params).toMatchObject({ SSEKMSKeyId: config.quarantineKeyArn });
  expect(w.s3.uploads.size).toBe(0);
});
