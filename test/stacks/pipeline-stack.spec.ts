import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { DATA_CLASSIFICATION_TAG } from '../../lib/contract/classification';
import { SUBNET_TIER_TAG } from '../../lib/contract/tags';
import { ENVIRONMENT_VARIABLES } from '../../lib/functions/pseudonymize/handler';
import { resourceOf, target } from '../support/cross-stack';
import { defaultTemplate } from '../support/default-app';
import { actionsOf, policyOfRole, resourcesOf as statementResources, type Statement } from '../support/iam';
import { synthBlueprint } from '../support/synth';
import { only, resourcesOf, statements, type Resource } from '../support/template';

const ROOT = join(__dirname, '..', '..');
const pipeline = defaultTemplate('Pipeline');
const data = defaultTemplate('Data');
const identity = defaultTemplate('Identity');
const [, fn] = only(pipeline, 'AWS::Lambda::Function');
const fnProps = fn.Properties as Record<string, unknown>;

const tagsOf = (r: Resource) =>
  Object.fromEntries(
    ((r.Properties?.Tags ?? []) as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]),
  );

describe('the function', () => {
  test('runs the stage on Node.js 24 with bounded concurrency, time and local storage', () => {
    expect(fnProps).toMatchObject({
      FunctionName: 'aiseg-pseudonymization',
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 900,
      MemorySize: 1024,
      ReservedConcurrentExecutions: 5,
      EphemeralStorage: { Size: 10240 },
      LoggingConfig: { LogFormat: 'JSON' },
    });
  });

  test('runs in the pipeline segment: its workload subnets and security group, every zone', () => {
    const vpc = fnProps.VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: unknown[] };
    expect(vpc.SubnetIds).toHaveLength(2);
    for (const subnet of vpc.SubnetIds) {
      const where = target(subnet);
      expect(where.stack).toBe('Network-pipeline');
      const resource = resourceOf(where);
      expect(resource.Type).toBe('AWS::EC2::Subnet');
      expect(tagsOf(resource)[SUBNET_TIER_TAG]).toBe('workload');
    }
    const [sg] = vpc.SecurityGroupIds.map(target);
    expect(sg.stack).toBe('Network-pipeline');
    expect(sg.id).toMatch(/^SegmentWorkloadSecurityGroup/);
  });

  test('the pipeline segment has no path to the internet, and reaches S3, KMS and Step Functions through endpoints', () => {
    const net = defaultTemplate('Network-pipeline');
    for (const type of ['AWS::EC2::InternetGateway', 'AWS::EC2::NatGateway', 'AWS::EC2::EIP']) {
      expect(Object.keys(net.findResources(type))).toEqual([]);
    }
    const endpoints = Object.values(net.findResources('AWS::EC2::VPCEndpoint')).map((r) =>
      JSON.stringify((r as Resource).Properties?.ServiceName),
    );
    expect(endpoints).toHaveLength(3);
    expect(endpoints.some((s) => s.includes('.s3'))).toBe(true);
    expect(endpoints.some((s) => s.includes('.kms'))).toBe(true);
    expect(endpoints.some((s) => s.includes('.states'))).toBe(true);
  });

  test('acts as the pseudonymization role, and logs to its retained, encrypted log group', () => {
    expect(resourceOf(target(fnProps.Role)).Properties?.RoleName).toBe('aiseg-pseudonymization');
    const group = resourceOf(target((fnProps.LoggingConfig as { LogGroup: unknown }).LogGroup));
    expect(group.Properties).not.toHaveProperty('LogGroupName');
    expect(group).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      DeletionPolicy: 'Retain',
      // Named by CloudFormation: a retried first deploy never meets a retained group of that name.
      Properties: { KmsKeyId: expect.anything() },
    });
  });

  test('knows the zones and keys by environment, the datasets only through its bundle', () => {
    const variables = (fnProps.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(variables).sort()).toEqual([
      'CURATED_BUCKET',
      'CURATED_KEY_ARN',
      'HMAC_KEY_ARN',
      'MAX_RANGE_BYTES',
      'QUARANTINE_BUCKET',
      'QUARANTINE_KEY_ARN',
      'RANGE_BYTES',
      'RANGE_WORKFLOW_ARN',
      'RAW_BUCKET',
      'SINGLE_PASS_BYTES',
      'STAGING_BUCKET',
      'STAGING_KEY_ARN',
    ]);
    // Every name the handler requires, and no other.
    expect(Object.keys(variables).sort()).toEqual([...ENVIRONMENT_VARIABLES].sort());
    expect(variables).toMatchObject({
      SINGLE_PASS_BYTES: String(256 * 1024 ** 2),
      RANGE_BYTES: String(64 * 1024 ** 2),
      MAX_RANGE_BYTES: String(256 * 1024 ** 2),
    });
    expect(target(variables.STAGING_BUCKET).id).toMatch(/^PseudonymizationStaging/);
    expect(target(variables.STAGING_KEY_ARN).id).toMatch(/^PseudonymizationStagingKey/);
    expect(JSON.stringify(variables.RANGE_WORKFLOW_ARN)).toContain(
      ':stateMachine:aiseg-pseudonymize-large-objects"',
    );
    expect(target(variables.RAW_BUCKET).id).toMatch(/^Zoneraw/);
    expect(target(variables.CURATED_BUCKET).id).toMatch(/^Zonecurated/);
    expect(target(variables.QUARANTINE_BUCKET).id).toMatch(/^Zonequarantine/);
    expect(target(variables.CURATED_KEY_ARN).id).toMatch(/^Keypii/);
    expect(target(variables.QUARANTINE_KEY_ARN).id).toMatch(/^Keyphi/);
    expect(target(variables.HMAC_KEY_ARN).id).toMatch(/^PseudonymizationHmacKey/);
  });
});

describe('trigger, retries and dead letters', () => {
  const [ruleId, rule] = only(pipeline, 'AWS::Events::Rule');

  test("the raw zone's new objects, through EventBridge", () => {
    const [, raw] = Object.entries(resourcesOf(data)).find(([id]) => id.startsWith('Zoneraw'))!;
    expect(raw.Properties?.NotificationConfiguration).toEqual({
      EventBridgeConfiguration: { EventBridgeEnabled: true },
    });
    expect(rule.Properties).toMatchObject({
      Name: 'aiseg-pseudonymize-raw-objects',
      EventPattern: { source: ['aws.s3'], 'detail-type': ['Object Created'] },
    });
    const pattern = rule.Properties?.EventPattern as { detail: { bucket: { name: unknown[] } } };
    expect(target(pattern.detail.bucket.name[0]).id).toMatch(/^Zoneraw/);
  });

  test('only this rule may invoke the function', () => {
    const [, permission] = only(pipeline, 'AWS::Lambda::Permission');
    expect(permission.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
  });

  test('failures after retries go to the encrypted dead-letter queue, from the rule and from the function', () => {
    const targets = rule.Properties?.Targets as Record<string, unknown>[];
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({
      RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
    });
    const dlq = target((targets[0].DeadLetterConfig as { Arn: unknown }).Arn);
    expect(target((fnProps.DeadLetterConfig as { TargetArn: unknown }).TargetArn)).toEqual(dlq);
    const [, invoke] = only(pipeline, 'AWS::Lambda::EventInvokeConfig');
    expect(invoke.Properties).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 });

    const queue = resourceOf(dlq);
    expect(queue).toMatchObject({
      Type: 'AWS::SQS::Queue',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        MessageRetentionPeriod: 1209600,
        KmsMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^PseudonymizationDeadLetterKey/), 'Arn'] },
      },
    });
  });

  test('the queue refuses plain HTTP and admits only the stage rule among services', () => {
    const [, policy] = only(data, 'AWS::SQS::QueuePolicy');
    const list = statements(policy.Properties?.PolicyDocument) as unknown as Statement[];
    expect(list).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const send = list.find((s) => s.Effect === 'Allow')!;
    expect(send.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(actionsOf(send)).toEqual(['sqs:SendMessage']);
    expect(JSON.stringify(send.Condition)).toContain('rule/aiseg-pseudonymize-raw-objects');
  });

  test('alarms tell the alert topic about dead letters, failed dead-letter writes, dropped events and failed or timed-out runs', () => {
    const alarms = Object.values(pipeline.findResources('AWS::CloudWatch::Alarm')) as Resource[];
    expect(alarms.map((a) => a.Properties?.MetricName).sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'AsyncEventsDropped',
      'DeadLetterErrors',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]);
    for (const alarm of alarms.filter((a) => String(a.Properties?.MetricName).startsWith('Executions'))) {
      expect(alarm.Properties?.Namespace).toBe('AWS/States');
      expect(alarm.Properties?.Dimensions).toEqual([
        {
          Name: 'StateMachineArn',
          Value: { Ref: Object.keys(pipeline.findResources('AWS::StepFunctions::StateMachine'))[0] },
        },
      ]);
    }
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      const actions = alarm.Properties?.AlarmActions as unknown[];
      expect(actions).toHaveLength(1);
      expect(resourceOf(target(actions[0])).Type).toBe('AWS::SNS::Topic');
    }
  });
});

describe('the HMAC key', () => {
  const [, key] = Object.entries(resourcesOf(data)).find(([id]) => id.startsWith('PseudonymizationHmacKey'))!;
  const policy = statements(key.Properties?.KeyPolicy) as unknown as Statement[];

  test('is an HMAC-SHA-256 key, retained (losing it would unlink every token)', () => {
    expect(key).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' },
    });
  });

  test('only the pseudonymization role may MAC with it; everyone else is refused', () => {
    const macs = policy.filter((s) => actionsOf(s).some((a) => a.includes('Mac')));
    expect(macs).toHaveLength(2);
    const allow = macs.find((s) => s.Effect === 'Allow')!;
    expect(actionsOf(allow)).toEqual(['kms:GenerateMac']);
    expect(JSON.stringify(allow.Condition?.ArnEquals)).toMatch(/role\/aiseg-pseudonymization"/);
    const deny = macs.find((s) => s.Effect === 'Deny')!;
    expect(deny.Principal).toEqual({ AWS: '*' });
    expect(actionsOf(deny).sort()).toEqual(['kms:GenerateMac', 'kms:VerifyMac']);
    expect(JSON.stringify(deny.Condition?.ArnNotEquals)).toMatch(/role\/aiseg-pseudonymization"/);
    // The account's administration statement does not delegate MAC operations.
    for (const s of policy.filter((x) => x.Effect === 'Allow' && x !== allow)) {
      expect(actionsOf(s).filter((a) => /Mac|^kms:\*$|^kms:Generate\*$/.test(a))).toEqual([]);
    }
  });
});

describe('the pipeline operator, who re-drives dead letters', () => {
  const [operatorId, operator] = only(identity, 'AWS::IAM::Role', { RoleName: 'aiseg-pipeline-operator' });

  test('is a human role of one-hour sessions, which no one may assume until identities.pipelineOperators names them', () => {
    expect(operator.Properties?.MaxSessionDuration).toBe(3600);
    expect(statements(operator.Properties?.AssumeRolePolicyDocument)).toEqual([
      expect.objectContaining({ Effect: 'Deny', Principal: { AWS: '*' } }),
    ]);
    expect(
      (operator as { Metadata?: Record<string, unknown> }).Metadata?.['ai-segmentation:trusts-no-one'],
    ).toBe('identities.pipelineOperators');
    expect(operatorId).toMatch(/^pipelineoperator/);
  });

  test('receives, decrypts and deletes dead letters and re-sends their events to the stage, nothing more', () => {
    const granted = policyOfRole(identity, 'aiseg-pipeline-operator');
    const grants = granted.flatMap((s) =>
      actionsOf(s).map(
        (a) =>
          `${a} ${JSON.stringify(statementResources(s))}${s.Condition ? ' ' + JSON.stringify(s.Condition) : ''}`,
      ),
    );
    expect(grants.map((g) => g.split(' ')[0]).sort()).toEqual([
      // The data stack's outputs, to find the queue's URL.
      'cloudformation:DescribeStacks',
      'kms:Decrypt',
      'lambda:InvokeFunction',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      // The range workflow's runs: found, read and redriven.
      'states:DescribeExecution',
      'states:ListExecutions',
      'states:RedriveExecution',
    ]);
    for (const grant of grants.filter((g) => g.startsWith('states:')))
      expect(grant).toMatch(/:(stateMachine|execution):aiseg-pseudonymize-large-objects(:\*)?"\]\]\}\]$/);
    for (const grant of grants.filter((g) => g.startsWith('sqs:')))
      expect(grant).toMatch(/PseudonymizationDeadLetters/);
    expect(grants.find((g) => g.startsWith('kms:'))).toMatch(
      /PseudonymizationDeadLetterKey.*"kms:ViaService":\{"Fn::Join":\["",\["sqs\./,
    );
    expect(grants.find((g) => g.startsWith('cloudformation:'))).toMatch(/:stack\/aiseg-data\/\*"\]\]\}\]$/);
    expect(grants.find((g) => g.startsWith('lambda:'))).toMatch(/:function:aiseg-pseudonymization"\]\]\}\]$/);
  });

  test("the dead-letter key lets the operator decrypt, through SQS only; the stage's rule may still send", () => {
    const [, key] = only(data, 'AWS::KMS::Key', {
      Description: 'Encrypts the dead-letter queue of the pseudonymization stage',
    });
    const list = statements(key.Properties?.KeyPolicy) as unknown as Statement[];
    const users = list.find((s) => s.Sid === 'NamedRolesUseTheKey')!;
    const named = JSON.stringify(users.Condition?.ArnEquals);
    expect(named).toContain(':role/aiseg-pseudonymization"');
    expect(named).toContain(':role/aiseg-pipeline-operator"');
    expect(JSON.stringify(users.Condition?.StringEquals)).toContain('sqs.');
    expect(JSON.stringify(list.find((s) => s.Sid === 'NoOtherPrincipalUsesTheKey')?.Condition)).toContain(
      ':role/aiseg-pipeline-operator"',
    );
  });
});

describe("the stage's role is confined to exactly what it needs", () => {
  const granted = policyOfRole(identity, 'aiseg-pseudonymization');
  // A resource of another stack, by the logical id in the name of the output it is read from.
  const targetOf = (resource: unknown) => {
    const text = JSON.stringify(resource);
    const at = /PublishOutput(?:Ref|FnGetAtt)([A-Za-z]+?)(?:Bucket|Key)?[0-9A-F]{8}/.exec(text);
    return at ? at[1] : text.includes('/aws/lambda/aiseg-pseudonymization') ? 'function-logs' : text;
  };
  const grants = new Set(
    granted
      .filter((s) => s.Effect !== 'Deny')
      .flatMap((s) =>
        actionsOf(s).flatMap((a) =>
          statementResources(s).map(
            (r) => `${a} ${r === '*' ? '*' : targetOf(r)}${s.Condition ? ' (conditioned)' : ''}`,
          ),
        ),
      ),
  );

  test('read raw; write curated and quarantine; MAC with the HMAC key; send dead letters; log; its network interfaces', () => {
    expect([...grants].sort()).toEqual(
      [
        's3:GetObject Zoneraw',
        's3:GetObjectVersion Zoneraw',
        's3:ListBucket Zoneraw',
        'kms:Decrypt Keyphi (conditioned)',
        's3:PutObject Zonecurated',
        'kms:Decrypt Keypii (conditioned)',
        'kms:Encrypt Keypii (conditioned)',
        'kms:GenerateDataKey Keypii (conditioned)',
        's3:PutObject Zonequarantine',
        'kms:Encrypt Keyphi (conditioned)',
        'kms:GenerateDataKey Keyphi (conditioned)',
        'kms:GenerateMac PseudonymizationHmac',
        'sqs:SendMessage PseudonymizationDeadLetters',
        'kms:Decrypt PseudonymizationDeadLetter (conditioned)',
        'kms:GenerateDataKey PseudonymizationDeadLetter (conditioned)',
        'logs:CreateLogStream FunctionLogsaisegpseudonymizationLogGroup',
        'logs:PutLogEvents FunctionLogsaisegpseudonymizationLogGroup',
        // Large objects: their runs, the staged parts, uploads in parts given up.
        'states:StartExecution {"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":states:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":stateMachine:aiseg-pseudonymize-large-objects"]]}',
        's3:GetObject PseudonymizationStaging',
        's3:PutObject PseudonymizationStaging',
        's3:DeleteObject PseudonymizationStaging',
        's3:ListBucket PseudonymizationStaging',
        'kms:Decrypt PseudonymizationStaging (conditioned)',
        'kms:Encrypt PseudonymizationStaging (conditioned)',
        'kms:GenerateDataKey PseudonymizationStaging (conditioned)',
        's3:AbortMultipartUpload Zonecurated',
        's3:AbortMultipartUpload Zonequarantine',
        'ec2:AssignPrivateIpAddresses {"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ec2:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":network-interface/*"]]}',
        'ec2:UnassignPrivateIpAddresses {"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":ec2:",{"Ref":"AWS::Region"},":",{"Ref":"AWS::AccountId"},":network-interface/*"]]}',
        ...[
          'ec2:CreateNetworkInterface',
          'ec2:CreateNetworkInterfacePermission',
          'ec2:DeleteNetworkInterface',
          'ec2:DeleteNetworkInterfacePermission',
          'ec2:DescribeDhcpOptions',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSecurityGroups',
          'ec2:DescribeSubnets',
          'ec2:DescribeVpcs',
        ].map((a) => `${a} *`),
      ].sort(),
    );
  });

  test("its network interfaces are refused in any VPC but the pipeline segment's", () => {
    const denies = granted.filter((s) => s.Effect === 'Deny');
    expect(denies.map((s) => s.Sid)).toEqual(['NoNetworkInterfaceOutsideTheSegment']);
    expect(JSON.stringify(denies[0].Condition?.ArnNotEquals?.['ec2:Vpc'])).toMatch(
      /Networkpipeline|network-pipeline/,
    );
  });

  test('its key use is through S3 (zones) or SQS (dead letters) only', () => {
    for (const s of granted.filter((x) =>
      actionsOf(x).some((a) => /^kms:(Decrypt|Encrypt|GenerateDataKey)/.test(a)),
    )) {
      expect(JSON.stringify(s.Condition?.StringEquals?.['kms:ViaService'])).toMatch(/"(s3|sqs)\."/);
    }
  });
});

describe('the zones the stage touches', () => {
  const policyOf = (zone: string) => {
    const [bucketId] = Object.keys(data.findResources('AWS::S3::Bucket')).filter((id) =>
      id.startsWith(`Zone${zone}`),
    );
    const [, policy] = Object.entries(resourcesOf(data)).find(
      ([, r]) =>
        r.Type === 'AWS::S3::BucketPolicy' &&
        JSON.stringify(r.Properties?.Bucket) === JSON.stringify({ Ref: bucketId }),
    )!;
    return statements(policy.Properties?.PolicyDocument) as unknown as Statement[];
  };
  const perimeter = (zone: string) =>
    policyOf(zone).find((s) => s.Sid === 'DenyDataAccessOffThePerimeter')!.Condition!;

  test.each(['raw', 'quarantine'])(
    '%s: data requests only through the pipeline segment, the stage included (it is not an off-network role)',
    (zone) => {
      const condition = perimeter(zone);
      const endpoints = condition.StringNotEquals?.['aws:SourceVpce'] as unknown[];
      expect(endpoints).toHaveLength(1);
      expect(JSON.stringify(endpoints[0])).toContain('aiseg-network-pipeline');
      const offNetwork = JSON.stringify(condition.ArnNotEquals?.['aws:PrincipalArn'] ?? []);
      expect(offNetwork).not.toContain('aiseg-pseudonymization');
    },
  );

  test('curated: written by the stage alone', () => {
    const writes = policyOf('curated').find((s) => s.Sid === 'DenyWritesButByTheZoneWriters')!;
    const writers = JSON.stringify(writes.Condition?.ArnNotEquals?.['aws:PrincipalArn']);
    expect(writers.match(/role\/[\w-]+/g)).toEqual(['role/aiseg-pseudonymization']);
  });
});

describe('without a pipeline segment', () => {
  const { blueprint } = synthBlueprint({
    config: {
      segments: [
        { name: 'development', kind: 'development', vpcCidr: '10.10.0.0/16' },
        { name: 'training', kind: 'training', vpcCidr: '10.20.0.0/16' },
      ],
    },
  });

  test('there is no stage: no pipeline stack, no HMAC key, no dead-letter queue, no MAC grant', () => {
    expect(blueprint.pipeline).toBeUndefined();
    const t = Template.fromStack(blueprint.data);
    expect(Object.keys(t.findResources('AWS::SQS::Queue'))).toEqual([]);
    expect(Object.keys(t.findResources('AWS::KMS::Key', { Properties: { KeySpec: 'HMAC_256' } }))).toEqual(
      [],
    );
    expect(JSON.stringify(Template.fromStack(blueprint.identity).toJSON())).not.toContain('kms:GenerateMac');
  });
});

describe('the bundle', () => {
  // The example's datasets and linkage group, as the file writes them.
  const { datasets, linkageGroups } = (
    JSON.parse(readFileSync(join(ROOT, 'config', 'example.json'), 'utf8')) as {
      pseudonymization: { datasets: unknown[]; linkageGroups: unknown[] };
    }
  ).pseudonymization;
  const { blueprint, outdir } = synthBlueprint({
    config: {
      segments: [{ name: 'pipeline', kind: 'pipeline', vpcCidr: '10.40.0.0/16', azCount: 1 }],
      pseudonymization: { datasets, linkageGroups },
    },
  });
  const [, fnResource] = only(Template.fromStack(blueprint.pipeline!), 'AWS::Lambda::Function');
  const s3Key = (fnResource.Properties?.Code as { S3Key: string }).S3Key;
  const dir = join(outdir, `asset.${s3Key.replace(/\.zip$/, '')}`);

  test('is built from the handler with the datasets compiled in, and is what the template names', () => {
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir)).toEqual(['index.js']);
    const source = readFileSync(join(dir, 'index.js'), 'utf8');
    expect(source).toContain('ehr/patients/');
    expect(source).toContain('ehr/encounters/');
    expect(source).not.toContain('process.env.PSEUDONYMIZATION_DATASETS');
  });

  test('loads on its own and exports the handler (the SDK clients bundled at their pinned versions)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require(join(dir, 'index.js')) as { handler?: unknown };
    expect(typeof bundle.handler).toBe('function');
    const source = readFileSync(join(dir, 'index.js'), 'utf8');
    // Only the SDK's optional native signer is left to a guarded require.
    expect([...new Set(source.match(/require\("@aws-sdk\/[^"]+"\)/g))]).toEqual([
      'require("@aws-sdk/signature-v4-crt")',
    ]);
  });
});

describe('the range workflow, for objects too large for one invocation', () => {
  const [machineId, machine] = only(pipeline, 'AWS::StepFunctions::StateMachine');
  const props = machine.Properties as Record<string, unknown>;
  const definition = JSON.parse(String(props.DefinitionString)) as {
    States: Record<string, Record<string, unknown>>;
  };
  const map = definition.States.Ranges;

  test('a standard JSONata workflow of fixed name that logs every event (without data) and traces', () => {
    expect(props).toMatchObject({
      StateMachineName: 'aiseg-pseudonymize-large-objects',
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    expect(definition).toMatchObject({ QueryLanguage: 'JSONata', TimeoutSeconds: 86400, StartAt: 'Plan' });
    const destination = (
      props.LoggingConfiguration as { Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: unknown } }[] }
    ).Destinations[0].CloudWatchLogsLogGroup.LogGroupArn;
    expect(target(destination)).toMatchObject({
      stack: 'Audit',
      id: expect.stringMatching(/^PseudonymizationWorkflowLogs/) as string,
    });
    expect(resourceOf(target(props.RoleArn)).Properties?.RoleName).toBe('aiseg-pseudonymization-workflow');
  });

  test("calls the stage's function, and only it, at each step", () => {
    expect(props.DefinitionSubstitutions).toEqual({
      Partition: { Ref: 'AWS::Partition' },
      Stage: { 'Fn::GetAtt': [Object.keys(pipeline.findResources('AWS::Lambda::Function'))[0], 'Arn'] },
    });
    const tasks = [
      definition.States.Plan,
      (map.ItemProcessor as typeof definition).States.Range,
      definition.States.Assemble,
    ];
    for (const task of tasks) {
      expect(task).toMatchObject({ Type: 'Task', Resource: 'arn:${Partition}:states:::lambda:invoke' });
      expect((task.Arguments as { FunctionName: string }).FunctionName).toBe('${Stage}');
    }
  });

  test('a Distributed Map of standard child executions, no more at once than the reserved concurrency leaves, none failing', () => {
    expect(map).toMatchObject({
      Type: 'Map',
      Label: 'Ranges',
      MaxConcurrency: 4,
      ToleratedFailurePercentage: 0,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
    });
    expect(fnProps.ReservedConcurrentExecutions).toBe(5);
    // The items are the plan's indexes: no ItemReader, whose CSV and JSON Lines readers would parse the file their own way.
    expect(map).not.toHaveProperty('ItemReader');
    expect(map.Items).toBe('{% $states.input.items %}');
  });

  test('every step waits out throttling, retries a few other failures, and cannot hang', () => {
    const tasks = [
      definition.States.Plan,
      (map.ItemProcessor as typeof definition).States.Range,
      definition.States.Assemble,
    ];
    for (const task of tasks) {
      const retry = task.Retry as { ErrorEquals: string[]; MaxAttempts: number }[];
      expect(retry.map((r) => r.ErrorEquals)).toEqual([['Lambda.TooManyRequestsException'], ['States.ALL']]);
      expect(retry[0].MaxAttempts).toBeGreaterThanOrEqual(10);
      expect(task.TimeoutSeconds).toBeGreaterThan(fnProps.Timeout as number);
    }
  });

  test("its role invokes the stage's function, runs its own map's children, logs and traces; nothing else", () => {
    const granted = policyOfRole(identity, 'aiseg-pseudonymization-workflow');
    const grants = granted.flatMap((s) =>
      actionsOf(s).map(
        (a) => `${a} ${JSON.stringify(statementResources(s)).replace(/\{"Ref":"AWS::(\w+)"\}/g, '$1')}`,
      ),
    );
    const scoped = grants.filter((g) => !g.endsWith(' ["*"]'));
    expect(scoped.sort()).toEqual(
      [
        'lambda:InvokeFunction [{"Fn::Join":["",["arn:",Partition,":lambda:",Region,":",AccountId,":function:aiseg-pseudonymization"]]}]',
        'states:StartExecution [{"Fn::Join":["",["arn:",Partition,":states:",Region,":",AccountId,":stateMachine:aiseg-pseudonymize-large-objects"]]}]',
        ...['states:DescribeExecution', 'states:RedriveExecution', 'states:StopExecution'].map(
          (a) =>
            `${a} [{"Fn::Join":["",["arn:",Partition,":states:",Region,":",AccountId,":execution:aiseg-pseudonymize-large-objects/*"]]},{"Fn::Join":["",["arn:",Partition,":states:",Region,":",AccountId,":execution:aiseg-pseudonymize-large-objects:*"]]}]`,
        ),
      ].sort(),
    );
    expect(grants.filter((g) => g.endsWith(' ["*"]')).map((g) => g.split(' ')[0].split(':')[0])).toEqual(
      expect.arrayContaining(['logs', 'xray']),
    );
    expect(new Set(grants.filter((g) => g.endsWith(' ["*"]')).map((g) => g.split(':')[0]))).toEqual(
      new Set(['logs', 'xray']),
    );
    const trust = statements(resourceOf(target(props.RoleArn)).Properties?.AssumeRolePolicyDocument);
    expect(trust.map((s) => s.Principal)).toEqual([{ Service: 'states.amazonaws.com' }]);
    // Only for this state machine and its executions: no other state machine runs as the role.
    const sources = JSON.stringify(
      (trust[0].Condition as { ArnLike: Record<string, unknown> }).ArnLike['aws:SourceArn'],
    );
    expect(sources.match(/:(stateMachine|execution):[\w-]+[:/]?\*?/g)).toEqual([
      ':stateMachine:aiseg-pseudonymize-large-objects',
      ':execution:aiseg-pseudonymize-large-objects:*',
      ':execution:aiseg-pseudonymize-large-objects/*',
    ]);
    expect(machineId).toMatch(/^RangeWorkflow/);
  });
});

describe('the staging store, where runs keep their parts', () => {
  const [bucketId, bucket] = Object.entries(resourcesOf(data)).find(
    ([id, r]) => r.Type === 'AWS::S3::Bucket' && id.startsWith('PseudonymizationStaging'),
  )!;
  const [, policy] = Object.entries(resourcesOf(data)).find(
    ([, r]) =>
      r.Type === 'AWS::S3::BucketPolicy' &&
      JSON.stringify(r.Properties?.Bucket) === JSON.stringify({ Ref: bucketId }),
  )!;
  const list = statements(policy.Properties?.PolicyDocument) as unknown as Statement[];
  const roles = (sid: string) =>
    JSON.stringify(list.find((s) => s.Sid === sid)!.Condition?.ArnNotEquals?.['aws:PrincipalArn']).match(
      /role\/[\w-]+/g,
    );

  test('is phi under a key of its own, retained, Object Lock without retention, and forgets a run within 14 days', () => {
    // Of fixed name: deleted only when the create that made it rolls back (it holds nothing yet).
    expect(bucket).toMatchObject({ DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' });
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      VersioningConfiguration: { Status: 'Enabled' },
    });
    expect(bucket.Properties).not.toHaveProperty('ObjectLockConfiguration.Rule');
    expect(tagsOf(bucket)[DATA_CLASSIFICATION_TAG]).toBe('phi');
    const rules = (bucket.Properties?.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ExpirationInDays: 14, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }),
      ]),
    );
    const keyRef = JSON.stringify(bucket.Properties?.BucketEncryption);
    expect(keyRef).toContain('PseudonymizationStagingKey');
  });

  test('the stage alone writes, deletes and reads, through the pipeline segment', () => {
    expect(roles('DenyWritesButByTheZoneWriters')).toEqual(['role/aiseg-pseudonymization']);
    expect(actionsOf(list.find((s) => s.Sid === 'DenyWritesButByTheZoneWriters')!)).toContain(
      's3:DeleteObject',
    );
    // Break-glass reads too where the config enables it (the default does not).
    expect(roles('DenyReadsButByTheZoneReaders')).toEqual(['role/aiseg-pseudonymization']);
    const perimeter = list.find((s) => s.Sid === 'DenyDataAccessOffThePerimeter')!.Condition!;
    expect(JSON.stringify(perimeter.StringNotEquals?.['aws:SourceVpce'])).toContain('aiseg-network-pipeline');
    expect(JSON.stringify(perimeter.ArnNotEquals ?? {})).not.toContain('aiseg-pseudonymization');
  });
});
