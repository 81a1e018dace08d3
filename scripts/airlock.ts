/**
 * `npm run airlock -- COMMAND [--desk URL | --stack NAME]`: the airlock for the people who use it,
 * with their own AWS credentials (the default provider chain: environment, profile, SSO).
 *
 *   request import --kind dataset|model --path PATH --file FILE   upload FILE; it lands at PATH in
 *                                                                   raw (datasets) or under imported/
 *                                                                   in models once scanned and approved
 *   request export --source ZONE --key KEY --reason TEXT          ask for one object of a source zone
 *                                                                   (data scientists: curated; ML engineers:
 *                                                                   models) to be sent to the destination once
 *                                                                   a reviewer approves
 *   status [REQUEST_ID]                                            what waits (reviewers: all; others: theirs)
 *   approve REQUEST_ID --reason TEXT [--accept-code-execution TEXT]
 *   reject REQUEST_ID --reason TEXT
 *
 * The desk is found by --desk, or from the `DeskUrl` output of --stack (default `aiseg-airlock`).
 * Exits 0 on success, 1 when the desk refuses, 2 on a usage error.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { AirlockClient, deskFromStack, regionOfDesk, type DeskAnswer } from '../lib/tools/airlock/client';
import { option, positionals } from './args';

const USAGE = `usage: npm run airlock -- request import --kind dataset|model --path PATH --file FILE
       npm run airlock -- request export --source ZONE --key KEY --reason TEXT
       npm run airlock -- status [REQUEST_ID]
       npm run airlock -- approve REQUEST_ID --reason TEXT [--accept-code-execution TEXT]
       npm run airlock -- reject REQUEST_ID --reason TEXT
options: --desk URL | --stack NAME (default aiseg-airlock) [--region REGION]`;

const VALUED = [
  'desk',
  'stack',
  'region',
  'kind',
  'path',
  'file',
  'source',
  'key',
  'reason',
  'accept-code-execution',
];

export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

function show(answer: DeskAnswer, io: Io): number {
  if (answer.status >= 400) {
    io.err(`refused (${answer.status}): ${String(answer.body.error)}`);
    return 1;
  }
  io.out(JSON.stringify(answer.body, null, 2));
  return 0;
}

export async function main(
  argv: string[],
  io: Io = { out: (l) => console.log(l), err: (l) => console.error(l) },
  make: (desk: string) => AirlockClient = (desk) =>
    new AirlockClient({
      desk,
      credentials: defaultProvider(),
      s3: new S3Client({ region: regionOfDesk(desk) }),
    }),
  lookup: (stack: string, region?: string) => Promise<string> = (stack, region) =>
    deskFromStack(new CloudFormationClient(region ? { region } : {}), stack),
): Promise<number> {
  const [command, ...rest] = positionals(argv, VALUED);
  const usage = (why: string) => {
    io.err(`${why}\n${USAGE}`);
    return 2;
  };
  if (!command) return usage('no command');
  const desk =
    option(argv, 'desk') ?? (await lookup(option(argv, 'stack') ?? 'aiseg-airlock', option(argv, 'region')));
  const client = make(desk);
  switch (command) {
    case 'request': {
      const [what] = rest;
      if (what === 'export') {
        const [source, key, reason] = ['source', 'key', 'reason'].map((n) => option(argv, n));
        if (!source || !key || !reason) return usage('request export needs --source, --key and --reason');
        const answer = await client.requestExport(source, key, reason);
        const code = show(answer, io);
        if (code === 0)
          io.out(
            'The workflow stages it for a reviewer; npm run airlock -- status REQUEST_ID shows where it is.',
          );
        return code;
      }
      if (what !== 'import')
        return usage(`request ${what ?? ''}: expected "request import" or "request export"`);
      const [kind, path, file] = ['kind', 'path', 'file'].map((n) => option(argv, n));
      if (!kind || !path || !file) return usage('request import needs --kind, --path and --file');
      const { bucket, key } = await client.requestImport(kind, path, file);
      io.out(`uploaded to s3://${bucket}/${key}`);
      io.out('GuardDuty scans it; a clean upload then waits for a reviewer (npm run airlock -- status).');
      return 0;
    }
    case 'status':
      return show(await client.status(rest[0]), io);
    case 'approve':
    case 'reject': {
      const [requestId] = rest;
      const reason = option(argv, 'reason');
      if (!requestId || !reason) return usage(`${command} needs a REQUEST_ID and --reason`);
      return show(
        await client.decide(
          requestId,
          command === 'approve' ? 'approve' : 'reject',
          reason,
          command === 'approve' ? option(argv, 'accept-code-execution') : undefined,
        ),
        io,
      );
    }
    default:
      return usage(`unknown command ${command}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      console.error(err.message);
      process.exitCode = 2;
    },
  );
}
