import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { AirlockClient, deskFromStack, regionOfDesk } from '../../../lib/tools/airlock/client';
import { main } from '../../../scripts/airlock';

const DESK = 'https://abcdefghijklmnop1234.lambda-url.eu-west-1.on.aws/';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session-token' };
const s3 = mockClient(S3Client);
const cloudformation = mockClient(CloudFormationClient);

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** A desk that records what it is sent and answers `answer`. */
function fakeDesk(answer: (sent: Sent) => [number, unknown]) {
  const sent: Sent[] = [];
  const fetcher = ((
    url: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ) => {
    const request = { url, method: init.method, headers: init.headers, body: init.body };
    sent.push(request);
    const [status, body] = answer(request);
    return Promise.resolve(new Response(JSON.stringify(body), { status }));
  }) as unknown as typeof fetch;
  return { sent, fetcher };
}
const client = (fetcher: typeof fetch) =>
  new AirlockClient({
    desk: DESK,
    credentials: CREDENTIALS,
    fetch: fetcher,
    s3: new S3Client({ region: 'eu-west-1' }),
  });
const io = () => {
  const lines = { out: [] as string[], err: [] as string[] };
  return { lines, io: { out: (l: string) => lines.out.push(l), err: (l: string) => lines.err.push(l) } };
};

beforeEach(() => {
  s3.reset();
  cloudformation.reset();
});

describe('the airlock client', () => {
  test('reads the region of a function URL, and refuses anything else', () => {
    expect(regionOfDesk(DESK)).toBe('eu-west-1');
    expect(() => regionOfDesk('https://example.org/desk')).toThrow('expected a function URL');
  });

  test("signs every request to the desk with the caller's credentials, for Lambda in the desk's region", async () => {
    const { sent, fetcher } = fakeDesk(() => [200, { requests: [] }]);
    await client(fetcher).status();
    const [request] = sent;
    expect(request.url).toBe('https://abcdefghijklmnop1234.lambda-url.eu-west-1.on.aws/requests');
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(request.headers['x-amz-security-token']).toBe('session-token');
  });

  test('an import asks the desk where to upload, then uploads there with the CRC-64/NVME checksum the copy checks, never over an upload', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-'));
    const file = join(dir, 'patients.csv');
    writeFileSync(file, 'patient_id,age\n1,44\n');
    s3.on(PutObjectCommand).resolves({});
    const { sent, fetcher } = fakeDesk(() => [
      200,
      {
        bucket: 'acme-ai-airlock-import',
        key: 'incoming/AROAEXAMPLEIMPORTER1:alice/dataset/ehr/patients/p.csv',
      },
    ]);
    const at = await client(fetcher).requestImport('dataset', 'ehr/patients/p.csv', file);
    expect(JSON.parse(sent[0].body!)).toEqual({ kind: 'dataset', path: 'ehr/patients/p.csv' });
    expect(sent[0].headers.authorization).toContain('SignedHeaders=content-type;host;');
    expect(at.key).toBe('incoming/AROAEXAMPLEIMPORTER1:alice/dataset/ehr/patients/p.csv');
    const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(put).toMatchObject({
      Bucket: 'acme-ai-airlock-import',
      Key: at.key,
      ChecksumAlgorithm: 'CRC64NVME',
      IfNoneMatch: '*',
    });
    // An upload at that key already: refused by S3, and said so.
    s3.on(PutObjectCommand).rejects(
      Object.assign(new Error('pre-conditions'), { name: 'PreconditionFailed' }),
    );
    await expect(client(fetcher).requestImport('dataset', 'ehr/patients/p.csv', file)).rejects.toThrow(
      'you uploaded a dataset at this path already',
    );
  });

  test('an import the desk refuses, or a bad kind or path, uploads nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-'));
    const file = join(dir, 'x.csv');
    writeFileSync(file, 'x');
    const { fetcher } = fakeDesk(() => [403, { error: 'only importers upload' }]);
    await expect(client(fetcher).requestImport('dataset', 'a.csv', file)).rejects.toThrow(
      'the desk refused: only importers upload (403)',
    );
    await expect(client(fetcher).requestImport('script', 'a.sh', file)).rejects.toThrow('--kind script');
    await expect(client(fetcher).requestImport('dataset', '../curated/x', file)).rejects.toThrow('--path');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('finds the desk from the airlock stack, and says so when it is not deployed', async () => {
    cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'acme-ai-airlock',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [{ OutputKey: 'DeskUrl', OutputValue: DESK }],
        },
      ],
    });
    expect(await deskFromStack(new CloudFormationClient({}), 'acme-ai-airlock')).toBe(DESK);
    cloudformation.on(DescribeStacksCommand).resolves({ Stacks: [] });
    await expect(deskFromStack(new CloudFormationClient({}), 'acme-ai-airlock')).rejects.toThrow(
      'has no DeskUrl output',
    );
  });
});

describe('npm run airlock', () => {
  test('approve sends the decision, with an acceptance of code that runs on load when given', async () => {
    const { sent, fetcher } = fakeDesk(() => [200, { requestId: 'req-1', state: 'approved' }]);
    const { lines, io: out } = io();
    const code = await main(
      [
        'approve',
        'req-1',
        '--reason',
        'Agreed extract',
        '--accept-code-execution',
        'Vendor checkpoint, training segment only',
        '--desk',
        DESK,
      ],
      out,
      () => client(fetcher),
    );
    expect(code).toBe(0);
    expect(sent[0]).toMatchObject({ method: 'POST', url: `${DESK}requests/req-1/decision` });
    expect(JSON.parse(sent[0].body!)).toEqual({
      decision: 'approve',
      reason: 'Agreed extract',
      codeExecutionAccepted: 'Vendor checkpoint, training segment only',
    });
    expect(lines.out.join('\n')).toContain('"state": "approved"');
  });

  test("the desk's refusal is shown with its reason, exit 1; a usage error exits 2 and sends nothing", async () => {
    const { sent, fetcher } = fakeDesk(() => [403, { error: 'the same person may not request and approve' }]);
    const refused = io();
    expect(
      await main(['reject', 'req-1', '--reason', 'no', '--desk', DESK], refused.io, () => client(fetcher)),
    ).toBe(1);
    expect(refused.lines.err).toEqual(['refused (403): the same person may not request and approve']);
    const usage = io();
    expect(await main(['approve', 'req-1', '--desk', DESK], usage.io, () => client(fetcher))).toBe(2);
    expect(usage.lines.err[0]).toContain('approve needs a REQUEST_ID and --reason');
    expect(sent).toHaveLength(1);
  });

  test('status and request import reach the desk found from the stack', async () => {
    const { sent, fetcher } = fakeDesk(() => [
      200,
      { requests: [{ requestId: 'req-1', state: 'awaiting-review' }] },
    ]);
    const { lines, io: out } = io();
    const stacks: string[] = [];
    expect(
      await main(
        ['status', '--stack', 'acme-ai-airlock'],
        out,
        () => client(fetcher),
        (stack) => {
          stacks.push(stack);
          return Promise.resolve(DESK);
        },
      ),
    ).toBe(0);
    expect(stacks).toEqual(['acme-ai-airlock']);
    expect(sent[0].url).toBe(`${DESK}requests`);
    expect(lines.out.join('\n')).toContain('awaiting-review');
  });

  test('request export asks the desk for one object of a source zone, and shows the request', async () => {
    const { sent, fetcher } = fakeDesk(() => [202, { requestId: '6f1c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f' }]);
    const { lines, io: out } = io();
    const code = await main(
      [
        'request',
        'export',
        '--source',
        'curated',
        '--key',
        'cohorts/c7/summary.csv',
        '--reason',
        'Results for the partner study PS-7',
        '--desk',
        DESK,
      ],
      out,
      () => client(fetcher),
    );
    expect(code).toBe(0);
    expect(sent[0].url).toBe(`${DESK.replace(/\/$/, '')}/exports`);
    expect(JSON.parse(sent[0].body!)).toEqual({
      source: 'curated',
      key: 'cohorts/c7/summary.csv',
      reason: 'Results for the partner study PS-7',
    });
    expect(lines.out.join('\n')).toContain('6f1c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f');
    // A key outside the layout never reaches the desk; a refusal is exit 1; a missing option, 2.
    await expect(
      main(
        ['request', 'export', '--source', 'curated', '--key', '../raw/x', '--reason', 'r', '--desk', DESK],
        out,
        () => client(fetcher),
      ),
    ).rejects.toThrow('--key');
    const refusing = fakeDesk(() => [
      403,
      { error: 'source: your role may ask for exports out of curated only' },
    ]);
    expect(
      await main(
        [
          'request',
          'export',
          '--source',
          'raw',
          '--key',
          'a.csv',
          '--reason',
          'the raw file',
          '--desk',
          DESK,
        ],
        out,
        () => client(refusing.fetcher),
      ),
    ).toBe(1);
    expect(
      await main(['request', 'export', '--source', 'curated', '--desk', DESK], out, () => client(fetcher)),
    ).toBe(2);
  });
});
