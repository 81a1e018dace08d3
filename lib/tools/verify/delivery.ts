import type { Assembly, StackTemplate } from './assembly';
import type { Evidence, Violation } from './invariants';
import { actionMatches, list, matches, strings, type Statement } from './policy';
import { allResources, ofType, subscriptionCounts, type LocatedResource, type Resolver } from './resolve';

/**
 * Invariant 11: every signal reaches its destination. For each alarm action, event-rule target
 * and dead-letter target, each log delivery and each encrypted destination, the destination's
 * resource policy and its key's policy must admit the publisher (a service with a confused-deputy
 * condition, or a role), and every function's role must allow what its own configuration needs.
 * Conditions are evaluated for the keys the blueprint's policies use (principal ARN, AWS service
 * or not, via-service, source account and ARN); an allow under any other condition counts as
 * allowing, a deny under any other condition as not applying: the check errs towards passing only
 * where a condition cannot be known from the templates.
 */

/** One signal path, as the report lists it. */
export interface DeliveryPath {
  readonly kind: string;
  readonly source: string;
  readonly destination: string;
  readonly passed: boolean;
  /** What is missing, when the path fails. */
  readonly missing: string[];
}

export interface DeliveryResult {
  readonly paths: DeliveryPath[];
  /** Topics that carry alerts and have no subscriber: nobody would be told. */
  readonly silentTopics: string[];
  readonly violations: Violation[];
  readonly evidence: Evidence[];
}

/** Who sends: an AWS service (with the source its request names) or an IAM role. */
type Publisher =
  | { readonly service: string; readonly sourceAccount: string; readonly sourceArn?: string }
  | { readonly roleArn: string; readonly viaService?: string };

const describe = (p: Publisher) => ('service' in p ? p.service : p.roleArn.replace(/^.*:role\//, 'role/'));

/** Whether a condition block holds for the publisher; unknown keys are `unknown`. */
function conditionHolds(condition: Statement['Condition'], p: Publisher): boolean | 'unknown' {
  let unknown = false;
  for (const [operator, block] of Object.entries(condition ?? {})) {
    for (const [rawKey, expected] of Object.entries(block)) {
      const key = rawKey.toLowerCase();
      const values = strings(expected);
      let actual: string | undefined;
      if (key === 'aws:sourceaccount' && 'service' in p) actual = p.sourceAccount;
      else if (key === 'aws:sourcearn' && 'service' in p) actual = p.sourceArn;
      else if (key === 'aws:principalarn' && 'roleArn' in p) actual = p.roleArn;
      else if (key === 'aws:principalisawsservice') actual = String('service' in p);
      else if (key === 'kms:viaservice' && 'roleArn' in p) actual = p.viaService;
      else {
        unknown = true;
        continue;
      }
      const ifExists = operator.endsWith('IfExists');
      if (actual === undefined) {
        if (ifExists) continue;
        if (operator.startsWith('Null')) continue;
        return false;
      }
      const op = operator.replace(/IfExists$/, '');
      const equal = values.some((v) =>
        op.includes('Like') || op.startsWith('Arn') ? matches(v, actual) : v === actual,
      );
      const holds = op.includes('Not') ? !equal : op.startsWith('Bool') ? values.includes(actual) : equal;
      if (!holds) return false;
    }
  }
  return unknown ? 'unknown' : true;
}

/** Whether a statement's principal covers the publisher. */
function principalCovers(principal: unknown, p: Publisher, account: string): boolean {
  if (principal === '*') return true;
  const { Service, AWS } = (principal ?? {}) as { Service?: unknown; AWS?: unknown };
  if ('service' in p) return strings(Service).includes(p.service);
  // Pseudo parameters may stay symbolic (`${AWS::Partition}` holds colons): compare the tail.
  return strings(AWS).some(
    (a) => a === '*' || a === p.roleArn || a === account || a.endsWith(`:iam::${account}:root`),
  );
}

/**
 * Whether a resource policy (or key policy) admits the publisher to do `action` on `resource`:
 * an allow that covers it and no deny that applies. With `confusedDeputy`, a service must be
 * bound by `aws:SourceAccount` or `aws:SourceArn` (or, for keys, an encryption context).
 */
function admits(
  statements: readonly Statement[],
  p: Publisher,
  action: string,
  resource: string,
  account: string,
): { admitted: boolean; unbound: boolean } {
  const applies = (s: Statement) =>
    principalCovers(s.Principal, p, account) &&
    strings(s.Action).some((a) => actionMatches(a, action)) &&
    (s.Resource === undefined || strings(s.Resource).some((r) => matches(r, resource)));
  const denied = statements.some(
    (s) => s.Effect === 'Deny' && applies(s) && conditionHolds(s.Condition, p) === true,
  );
  const allows = statements.filter(
    (s) => s.Effect === 'Allow' && applies(s) && conditionHolds(s.Condition, p) !== false,
  );
  const bound = (s: Statement) =>
    /aws:source(account|arn)|kms:encryptioncontext/i.test(
      Object.values(s.Condition ?? {})
        .flatMap(Object.keys)
        .join(' '),
    );
  return {
    admitted: !denied && allows.length > 0,
    unbound: 'service' in p && allows.some((s) => !bound(s)),
  };
}

/** `arn:…:s3:::bucket/a/b` to the bucket and the key prefix; a generated name stays `ref|<stack>/<id>`. */
function bucketAndPrefix(arn: string): { bucketName: string; prefix: string[] } {
  const path = arn.replace(/^arn:.*?:s3:::/, '');
  const parts = path.split('/');
  const take = path.startsWith('ref|') ? 2 : 1;
  return { bucketName: parts.slice(0, take).join('/'), prefix: parts.slice(take).filter(Boolean) };
}

/**
 * AWS managed policies that roles of aws-cdk-lib's own constructs carry, with the statements
 * that matter here (they are not in any template).
 */
const AWS_MANAGED_POLICIES: Record<string, Statement[]> = {
  'service-role/AWSLambdaBasicExecutionRole': [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: '*',
    },
  ],
  'service-role/AWSLambdaVPCAccessExecutionRole': [
    {
      Effect: 'Allow',
      Action: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      Resource: '*',
    },
  ],
};

export function analyzeDelivery(assembly: Assembly, r: Resolver): DeliveryResult {
  const resources = allResources(assembly);
  const paths: DeliveryPath[] = [];
  const evidence: Evidence[] = [];
  const name = (x: LocatedResource) => `${x.resource.Type} ${x.stack.id}/${x.id}`;
  const resolved = (value: unknown, stack: StackTemplate) => r.resolve(value, stack);
  const arnIn = (stack: StackTemplate, service: string, resource: string, global = false) =>
    String(
      resolved(
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              `:${service}:`,
              global ? '' : { Ref: 'AWS::Region' },
              ':',
              global ? '' : { Ref: 'AWS::AccountId' },
              `:${resource}`,
            ],
          ],
        },
        stack,
      ),
    );
  const accountOf = (stack: StackTemplate) => String(resolved({ Ref: 'AWS::AccountId' }, stack));
  const regionOf = (stack: StackTemplate) => String(resolved({ Ref: 'AWS::Region' }, stack));
  const docOf = (doc: unknown, stack: StackTemplate): Statement[] => {
    let value = resolved(doc, stack);
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value) as unknown;
      } catch {
        return [];
      }
    }
    return list((value as { Statement?: unknown } | undefined)?.Statement) as Statement[];
  };
  const targetOf = (value: unknown) => r.target(value);

  /** Records a path: `checks` are [what is missing when false, holds]. */
  const record = (kind: string, source: string, destination: string, checks: [string, boolean][]) => {
    const missing = checks.filter(([, ok]) => !ok).map(([what]) => what);
    paths.push({ kind, source, destination, passed: missing.length === 0, missing });
  };

  // ---- resource policies, by the resource they govern ----
  const policyFor = (type: string, property: string, targetRef: string) =>
    ofType(resources, type)
      .filter((x) => strings(resolved(x.resource.Properties?.[property], x.stack)).includes(targetRef))
      .flatMap((x) => docOf(x.resource.Properties?.PolicyDocument, x.stack));
  const bucketByName = (bucketName: string) =>
    ofType(resources, 'AWS::S3::Bucket').find(
      (b) =>
        String(resolved(b.resource.Properties?.BucketName ?? `ref|${b.stack.id}/${b.id}`, b.stack)) ===
          bucketName || `ref|${b.stack.id}/${b.id}` === bucketName,
    );
  const bucketPolicy = (bucket: LocatedResource) =>
    ofType(resources, 'AWS::S3::BucketPolicy')
      .filter((x) => {
        const ref = String(resolved(x.resource.Properties?.Bucket, x.stack));
        return (
          ref === `ref|${bucket.stack.id}/${bucket.id}` ||
          ref === String(resolved(bucket.resource.Properties?.BucketName, bucket.stack))
        );
      })
      .flatMap((x) => docOf(x.resource.Properties?.PolicyDocument, x.stack));
  const bucketArn = (bucket: LocatedResource) =>
    String(resolved({ 'Fn::GetAtt': [bucket.id, 'Arn'] }, bucket.stack));
  const keyOf = (value: unknown) => {
    const key = targetOf(value);
    return key?.resource.Type === 'AWS::KMS::Key' ? key : undefined;
  };
  const keyPolicy = (key: { stack: StackTemplate; resource: LocatedResource['resource'] }) =>
    docOf(key.resource.Properties?.KeyPolicy, key.stack);
  const bucketKey = (bucket: LocatedResource) =>
    keyOf(
      resolved(
        (
          bucket.resource.Properties?.BucketEncryption as
            | {
                ServerSideEncryptionConfiguration?: {
                  ServerSideEncryptionByDefault?: { KMSMasterKeyID?: unknown };
                }[];
              }
            | undefined
        )?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.KMSMasterKeyID,
        bucket.stack,
      ),
    );
  /** A service that encrypts with a customer-managed key: the key policy must let it make data keys. */
  const keyAdmitsService = (
    kind: string,
    source: string,
    keyValue: unknown,
    p: { service: string; sourceAccount: string; sourceArn?: string },
  ) => {
    const key = keyOf(keyValue);
    if (!key) return;
    record(kind, source, `AWS::KMS::Key ${key.stack.id}/${key.id}`, [
      [
        `key policy: Allow ${p.service} kms:GenerateDataKey`,
        admits(keyPolicy(key), p, 'kms:GenerateDataKey', '*', p.sourceAccount).admitted,
      ],
    ]);
  };
  const logResourcePolicies = ofType(resources, 'AWS::Logs::ResourcePolicy').flatMap((x) =>
    docOf(x.resource.Properties?.PolicyDocument, x.stack),
  );

  /** An S3 delivery by a service: bucket policy (object write and bucket ACL check) and the bucket key. */
  const s3Delivery = (
    kind: string,
    source: string,
    bucketName: string,
    objectKey: string,
    p: Publisher & { service: string },
    checkAcl: boolean,
  ) => {
    const bucket = bucketByName(bucketName);
    if (!bucket) {
      record(kind, source, `bucket ${bucketName}`, [
        [`the bucket ${bucketName} is not in the assembly`, false],
      ]);
      return;
    }
    const statements = bucketPolicy(bucket);
    const account = accountOf(bucket.stack);
    const arn = bucketArn(bucket);
    const put = admits(statements, p, 's3:PutObject', `${arn}/${objectKey}`, account);
    const checks: [string, boolean][] = [
      [`bucket policy: Allow ${p.service} s3:PutObject on ${arn}/${objectKey}`, put.admitted],
      [`bucket policy: ${p.service} bound by aws:SourceAccount or aws:SourceArn`, !put.unbound],
    ];
    if (checkAcl)
      checks.push([
        `bucket policy: Allow ${p.service} s3:GetBucketAcl on ${arn}`,
        admits(statements, p, 's3:GetBucketAcl', arn, account).admitted,
      ]);
    const key = bucketKey(bucket);
    if (key)
      checks.push([
        `key policy of ${key.stack.id}/${key.id}: Allow ${p.service} kms:GenerateDataKey`,
        admits(keyPolicy(key), p, 'kms:GenerateDataKey', '*', account).admitted,
      ]);
    record(kind, source, name(bucket), checks);
    evidence.push({
      invariant: 11,
      stack: bucket.stack.id,
      logicalId: bucket.id,
      type: bucket.resource.Type,
    });
  };

  /** A delivery to CloudWatch Logs through the log delivery service: the groups' resource policy. */
  const vendedLogDelivery = (kind: string, source: string, logGroupArn: string, stack: StackTemplate) => {
    const p = {
      service: 'delivery.logs.amazonaws.com',
      sourceAccount: accountOf(stack),
      sourceArn: arnIn(stack, 'logs', '*'),
    };
    const stream = `${logGroupArn.replace(/:\*$/, '')}:log-stream:sample`;
    const result = admits(logResourcePolicies, p, 'logs:PutLogEvents', stream, accountOf(stack));
    record(kind, source, logGroupArn, [
      [
        `a log resource policy: Allow delivery.logs.amazonaws.com logs:PutLogEvents on ${logGroupArn}`,
        result.admitted,
      ],
      [
        'the log resource policy binds delivery.logs.amazonaws.com by aws:SourceAccount or aws:SourceArn',
        !result.unbound,
      ],
    ]);
  };

  /** A topic publish: the topic policy and the topic key. */
  const topicDelivery = (
    kind: string,
    source: string,
    topicRef: string,
    p: Publisher & { service: string },
  ) => {
    const topic = targetOf(topicRef);
    if (!topic || topic.resource.Type !== 'AWS::SNS::Topic') {
      record(kind, source, topicRef, [[`the topic ${topicRef} is not in the assembly`, false]]);
      return;
    }
    const account = accountOf(topic.stack);
    const statements = policyFor('AWS::SNS::TopicPolicy', 'Topics', `ref|${topic.stack.id}/${topic.id}`);
    // Without a topic policy SNS's default one admits the owner account's principals only.
    const publish =
      statements.length === 0
        ? { admitted: false, unbound: false }
        : admits(statements, p, 'sns:Publish', topicRef, account);
    const checks: [string, boolean][] = [
      [`topic policy: Allow ${p.service} sns:Publish`, publish.admitted],
      [`topic policy: ${p.service} bound by aws:SourceAccount or aws:SourceArn`, !publish.unbound],
    ];
    const key = keyOf(resolved(topic.resource.Properties?.KmsMasterKeyId, topic.stack));
    const keyId = JSON.stringify(resolved(topic.resource.Properties?.KmsMasterKeyId, topic.stack) ?? '');
    if (keyId.includes('alias/aws/sns'))
      checks.push([`a customer-managed key: the AWS managed SNS key admits no ${p.service}`, false]);
    if (key) {
      for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        checks.push([
          `key policy of ${key.stack.id}/${key.id}: Allow ${p.service} ${action}`,
          admits(keyPolicy(key), p, action, '*', account).admitted,
        ]);
      }
    }
    record(kind, source, `AWS::SNS::Topic ${topic.stack.id}/${topic.id}`, checks);
    evidence.push({ invariant: 11, stack: topic.stack.id, logicalId: topic.id, type: topic.resource.Type });
  };

  /** A send to a queue: the queue policy (services) and the queue key. */
  const queueDelivery = (kind: string, source: string, queueArn: string, p: Publisher) => {
    const queue = ofType(resources, 'AWS::SQS::Queue').find(
      (q) =>
        String(resolved({ 'Fn::GetAtt': [q.id, 'Arn'] }, q.stack)) === queueArn ||
        `att|${q.stack.id}/${q.id}|Arn` === queueArn,
    );
    if (!queue) {
      record(kind, source, queueArn, [[`the queue ${queueArn} is not in the assembly`, false]]);
      return;
    }
    const account = accountOf(queue.stack);
    const checks: [string, boolean][] = [];
    if ('service' in p) {
      const statements = policyFor('AWS::SQS::QueuePolicy', 'Queues', `ref|${queue.stack.id}/${queue.id}`);
      const send = admits(statements, p, 'sqs:SendMessage', queueArn, account);
      checks.push(
        [`queue policy: Allow ${p.service} sqs:SendMessage`, send.admitted],
        [`queue policy: ${p.service} bound by aws:SourceAccount or aws:SourceArn`, !send.unbound],
      );
    }
    const key = keyOf(resolved(queue.resource.Properties?.KmsMasterKeyId, queue.stack));
    if (key) {
      const sender = 'roleArn' in p ? { ...p, viaService: `sqs.${regionOf(queue.stack)}.amazonaws.com` } : p;
      for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
        checks.push([
          `key policy of ${key.stack.id}/${key.id}: Allow ${describe(p)} ${action}`,
          admits(keyPolicy(key), sender, action, '*', account).admitted,
        ]);
      }
    }
    record(kind, source, `AWS::SQS::Queue ${queue.stack.id}/${queue.id}`, checks);
    return { queue, key };
  };

  // ---- roles: what a function's configuration needs from its role ----
  const roles = ofType(resources, 'AWS::IAM::Role');
  const roleArnOf = (x: LocatedResource) => String(resolved({ 'Fn::GetAtt': [x.id, 'Arn'] }, x.stack));
  /** A role of the assembly by its resolved ARN (a named role's ARN, or `att|<stack>/<id>|Arn`). */
  const roleByArn = (arn: string) => roles.find((x) => roleArnOf(x) === arn);
  const managed = ofType(resources, 'AWS::IAM::ManagedPolicy').concat(ofType(resources, 'AWS::IAM::Policy'));
  const grantsOf = (role: LocatedResource): Statement[] => {
    const roleName =
      role.resource.Properties?.RoleName !== undefined
        ? String(resolved(role.resource.Properties.RoleName, role.stack))
        : undefined;
    return [
      ...strings(resolved(role.resource.Properties?.ManagedPolicyArns, role.stack)).flatMap(
        (arn) => AWS_MANAGED_POLICIES[arn.replace(/^.*:iam::aws:policy\//, '')] ?? [],
      ),
      ...list(role.resource.Properties?.Policies).flatMap((x) =>
        docOf((x as { PolicyDocument: unknown }).PolicyDocument, role.stack),
      ),
      ...managed
        .filter((m) =>
          strings(resolved(m.resource.Properties?.Roles, m.stack)).some(
            (ref) =>
              ref === `ref|${role.stack.id}/${role.id}` || (roleName !== undefined && ref === roleName),
          ),
        )
        .flatMap((m) => docOf(m.resource.Properties?.PolicyDocument, m.stack)),
    ];
  };
  const boundaryOf = (role: LocatedResource): Statement[] | undefined => {
    const arn = role.resource.Properties?.PermissionsBoundary;
    if (arn === undefined) return undefined;
    const text = String(resolved(arn, role.stack));
    const policy = managed.find(
      (m) =>
        m.resource.Properties?.ManagedPolicyName !== undefined &&
        text.endsWith(`:policy/${String(resolved(m.resource.Properties.ManagedPolicyName, m.stack))}`),
    );
    return policy ? docOf(policy.resource.Properties?.PolicyDocument, policy.stack) : [];
  };
  const roleAllows = (role: LocatedResource, action: string, resource: string) => {
    const grants = grantsOf(role);
    const covers = (s: Statement) =>
      strings(s.Action).some((a) => actionMatches(a, action)) &&
      strings(s.Resource).some((x) => matches(x, resource));
    const allowed =
      grants.some((s) => s.Effect === 'Allow' && covers(s)) &&
      !grants.some((s) => s.Effect === 'Deny' && covers(s) && !s.Condition);
    const boundary = boundaryOf(role);
    return allowed && (boundary === undefined || boundary.some((s) => s.Effect === 'Allow' && covers(s)));
  };

  /** A log delivery through a role: it must exist and may write the group's streams. */
  const deliveryRoleChecks = (role: LocatedResource | undefined, stream: string): [string, boolean][] => [
    ['a delivery role', role !== undefined],
    ...['logs:CreateLogStream', 'logs:PutLogEvents'].map((a): [string, boolean] => [
      `delivery role and boundary: Allow ${a} on ${stream}`,
      role !== undefined && roleAllows(role, a, stream),
    ]),
  ];

  for (const fn of ofType(resources, 'AWS::Lambda::Function')) {
    const props = fn.resource.Properties ?? {};
    const source = name(fn);
    const roleArn = String(resolved(props.Role, fn.stack));
    const role = roleByArn(roleArn);
    if (!role) {
      record('function role', source, roleArn, [[`its role ${roleArn} is not in the assembly`, false]]);
      continue;
    }
    const needs: [string, string][] = [];
    const eni = arnIn(fn.stack, 'ec2', 'network-interface/eni-0');
    if ((props.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active') {
      needs.push(['xray:PutTraceSegments', '*'], ['xray:PutTelemetryRecords', '*']);
    }
    if (props.VpcConfig) {
      needs.push(
        ['ec2:CreateNetworkInterface', eni],
        ['ec2:DescribeNetworkInterfaces', '*'],
        ['ec2:DeleteNetworkInterface', eni],
        ['ec2:AssignPrivateIpAddresses', eni],
        ['ec2:UnassignPrivateIpAddresses', eni],
      );
    }
    const logGroup = (props.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup;
    const groupName =
      logGroup !== undefined
        ? String(resolved(logGroup, fn.stack))
        : `/aws/lambda/${String(resolved(props.FunctionName ?? fn.id, fn.stack))}`;
    const stream = arnIn(fn.stack, 'logs', `log-group:${groupName}:log-stream:sample`);
    needs.push(['logs:CreateLogStream', stream], ['logs:PutLogEvents', stream]);
    const deadLetter = (props.DeadLetterConfig as { TargetArn?: unknown } | undefined)?.TargetArn;
    let deadLetterKey: string | undefined;
    if (deadLetter !== undefined) {
      const queueArn = String(resolved(deadLetter, fn.stack));
      needs.push(['sqs:SendMessage', queueArn]);
      const sent = queueDelivery('function dead letters', source, queueArn, { roleArn: roleArnOf(role) });
      if (sent?.key) deadLetterKey = String(resolved({ 'Fn::GetAtt': [sent.key.id, 'Arn'] }, sent.key.stack));
    }
    if (deadLetterKey) needs.push(['kms:GenerateDataKey', deadLetterKey], ['kms:Decrypt', deadLetterKey]);
    record(
      'function role',
      source,
      `role ${String(resolved(role.resource.Properties?.RoleName ?? role.id, role.stack))}`,
      needs.map(([action, resource]) => [
        `role and boundary: Allow ${action} on ${resource}`,
        roleAllows(role, action, resource),
      ]),
    );
    evidence.push({ invariant: 11, stack: fn.stack.id, logicalId: fn.id, type: fn.resource.Type });
  }

  // ---- alarms ----
  for (const alarm of ofType(resources, 'AWS::CloudWatch::Alarm')) {
    const alarmArn = arnIn(
      alarm.stack,
      'cloudwatch',
      `alarm:${String(resolved(alarm.resource.Properties?.AlarmName ?? alarm.id, alarm.stack))}`,
    );
    const p = {
      service: 'cloudwatch.amazonaws.com',
      sourceAccount: accountOf(alarm.stack),
      sourceArn: alarmArn,
    };
    const actions = strings(resolved(alarm.resource.Properties?.AlarmActions, alarm.stack));
    if (actions.length === 0)
      record('alarm action', name(alarm), '(none)', [['an alarm action: the alarm tells no one', false]]);
    for (const action of actions) topicDelivery('alarm action', name(alarm), action, p);
  }

  // ---- EventBridge rules ----
  for (const rule of ofType(resources, 'AWS::Events::Rule')) {
    const props = rule.resource.Properties ?? {};
    const ruleArn =
      props.Name !== undefined
        ? arnIn(rule.stack, 'events', `rule/${String(resolved(props.Name, rule.stack))}`)
        : `att|${rule.stack.id}/${rule.id}|Arn`;
    const p = { service: 'events.amazonaws.com', sourceAccount: accountOf(rule.stack), sourceArn: ruleArn };
    for (const t of list(props.Targets) as {
      Arn: unknown;
      RoleArn?: unknown;
      DeadLetterConfig?: { Arn?: unknown };
    }[]) {
      const arn = resolved(t.Arn, rule.stack);
      const target = targetOf(arn);
      if (target?.resource.Type === 'AWS::SNS::Topic')
        topicDelivery('event rule target', name(rule), String(arn), p);
      else if (target?.resource.Type === 'AWS::Lambda::Function') {
        const permitted = ofType(resources, 'AWS::Lambda::Permission').some((perm) => {
          const pp = perm.resource.Properties ?? {};
          return (
            String(resolved(pp.Principal, perm.stack)) === 'events.amazonaws.com' &&
            String(resolved(pp.Action, perm.stack)) === 'lambda:InvokeFunction' &&
            String(resolved(pp.FunctionName, perm.stack)) === String(arn) &&
            [ruleArn, `att|${rule.stack.id}/${rule.id}|Arn`].includes(
              String(resolved(pp.SourceArn, perm.stack)),
            )
          );
        });
        record('event rule target', name(rule), name(target), [
          [
            'a Lambda permission: events.amazonaws.com may invoke the function, for this rule (SourceArn)',
            permitted,
          ],
        ]);
      } else if (target?.resource.Type === 'AWS::StepFunctions::StateMachine') {
        // EventBridge starts an execution as the target's role: it must exist and may start this machine.
        const machineName = target.resource.Properties?.StateMachineName;
        const machineArn =
          machineName !== undefined
            ? arnIn(target.stack, 'states', `stateMachine:${String(resolved(machineName, target.stack))}`)
            : String(arn);
        const role = t.RoleArn !== undefined ? roleByArn(String(resolved(t.RoleArn, rule.stack))) : undefined;
        record('event rule target', name(rule), name(target), [
          ['a role for the target', role !== undefined],
          [
            `target role and boundary: Allow states:StartExecution on ${machineArn}`,
            role !== undefined && roleAllows(role, 'states:StartExecution', machineArn),
          ],
        ]);
      } else
        record('event rule target', name(rule), String(arn), [
          ['a target the verifier knows (topic, function or state machine)', false],
        ]);
      if (t.DeadLetterConfig?.Arn !== undefined)
        queueDelivery(
          'event rule dead letters',
          name(rule),
          String(resolved(t.DeadLetterConfig.Arn, rule.stack)),
          p,
        );
    }
  }

  // ---- log deliveries ----
  for (const flowLog of ofType(resources, 'AWS::EC2::FlowLog')) {
    const props = flowLog.resource.Properties ?? {};
    const account = accountOf(flowLog.stack);
    if (props.LogDestinationType === 's3') {
      const { bucketName, prefix } = bucketAndPrefix(String(resolved(props.LogDestination, flowLog.stack)));
      const key = [...prefix, 'AWSLogs', account, 'vpcflowlogs', 'sample'].join('/');
      s3Delivery(
        'flow logs',
        name(flowLog),
        bucketName,
        key,
        {
          service: 'delivery.logs.amazonaws.com',
          sourceAccount: account,
          sourceArn: arnIn(flowLog.stack, 'logs', '*'),
        },
        true,
      );
    } else {
      const role = roleByArn(String(resolved(props.DeliverLogsPermissionArn, flowLog.stack)));
      const group = String(resolved(props.LogGroupName, flowLog.stack));
      const stream = arnIn(flowLog.stack, 'logs', `log-group:${group}:log-stream:sample`);
      record('flow logs', name(flowLog), `log group ${group}`, [...deliveryRoleChecks(role, stream)]);
    }
  }
  for (const logging of ofType(resources, 'AWS::NetworkFirewall::LoggingConfiguration')) {
    const configs =
      (
        logging.resource.Properties?.LoggingConfiguration as
          | {
              LogDestinationConfigs?: {
                LogDestinationType: string;
                LogDestination: Record<string, unknown>;
                LogType: string;
              }[];
            }
          | undefined
      )?.LogDestinationConfigs ?? [];
    const account = accountOf(logging.stack);
    for (const c of configs) {
      const kind = `firewall ${c.LogType.toLowerCase()} logs`;
      if (c.LogDestinationType === 'CloudWatchLogs') {
        vendedLogDelivery(
          kind,
          name(logging),
          arnIn(
            logging.stack,
            'logs',
            `log-group:${String(resolved(c.LogDestination.logGroup, logging.stack))}:*`,
          ),
          logging.stack,
        );
      } else if (c.LogDestinationType === 'S3') {
        const prefix =
          c.LogDestination.prefix !== undefined
            ? String(resolved(c.LogDestination.prefix, logging.stack))
            : '';
        const key = [
          ...prefix.split('/').filter(Boolean),
          'AWSLogs',
          account,
          'network-firewall',
          'sample',
        ].join('/');
        s3Delivery(
          kind,
          name(logging),
          String(resolved(c.LogDestination.bucketName, logging.stack)),
          key,
          {
            service: 'delivery.logs.amazonaws.com',
            sourceAccount: account,
            sourceArn: arnIn(logging.stack, 'logs', '*'),
          },
          true,
        );
      }
    }
  }
  for (const query of ofType(resources, 'AWS::Route53Resolver::ResolverQueryLoggingConfig')) {
    vendedLogDelivery(
      'DNS query logs',
      name(query),
      String(resolved(query.resource.Properties?.DestinationArn, query.stack)),
      query.stack,
    );
  }
  for (const waf of ofType(resources, 'AWS::WAFv2::LoggingConfiguration')) {
    for (const destination of strings(resolved(waf.resource.Properties?.LogDestinationConfigs, waf.stack))) {
      vendedLogDelivery('AWS WAF logs', name(waf), destination, waf.stack);
    }
  }
  for (const trail of ofType(resources, 'AWS::CloudTrail::Trail')) {
    const props = trail.resource.Properties ?? {};
    const account = accountOf(trail.stack);
    const trailArn =
      props.TrailName !== undefined
        ? arnIn(trail.stack, 'cloudtrail', `trail/${String(resolved(props.TrailName, trail.stack))}`)
        : arnIn(trail.stack, 'cloudtrail', 'trail/*');
    const p = { service: 'cloudtrail.amazonaws.com', sourceAccount: account, sourceArn: trailArn };
    s3Delivery(
      'CloudTrail',
      name(trail),
      String(resolved(props.S3BucketName, trail.stack)),
      `AWSLogs/${account}/CloudTrail/sample`,
      p,
      true,
    );
    keyAdmitsService('CloudTrail', name(trail), resolved(props.KMSKeyId, trail.stack), p);
    if (props.CloudWatchLogsRoleArn !== undefined) {
      const roleArn = String(resolved(props.CloudWatchLogsRoleArn, trail.stack));
      const role = roleByArn(roleArn);
      const group = String(resolved(props.CloudWatchLogsLogGroupArn, trail.stack)).replace(/:\*$/, '');
      const stream = `${group}:log-stream:sample`;
      record('CloudTrail', name(trail), group, [...deliveryRoleChecks(role, stream)]);
    }
  }
  for (const channel of ofType(resources, 'AWS::Config::DeliveryChannel')) {
    const props = channel.resource.Properties ?? {};
    const account = accountOf(channel.stack);
    const prefix =
      props.S3KeyPrefix !== undefined ? `${String(resolved(props.S3KeyPrefix, channel.stack))}/` : '';
    const p = { service: 'config.amazonaws.com', sourceAccount: account };
    s3Delivery(
      'AWS Config',
      name(channel),
      String(resolved(props.S3BucketName, channel.stack)),
      `${prefix}AWSLogs/${account}/Config/sample`,
      p,
      true,
    );
    keyAdmitsService('AWS Config', name(channel), resolved(props.S3KmsKeyArn, channel.stack), p);
  }
  for (const bucket of ofType(resources, 'AWS::S3::Bucket')) {
    const logging = bucket.resource.Properties?.LoggingConfiguration as
      { DestinationBucketName?: unknown; LogFilePrefix?: unknown } | undefined;
    if (!logging?.DestinationBucketName) continue;
    const targetName = String(resolved(logging.DestinationBucketName, bucket.stack));
    const target = bucketByName(targetName);
    const prefix =
      logging.LogFilePrefix !== undefined ? String(resolved(logging.LogFilePrefix, bucket.stack)) : '';
    const p = {
      service: 'logging.s3.amazonaws.com',
      sourceAccount: accountOf(bucket.stack),
      sourceArn: bucketArn(bucket),
    };
    s3Delivery('S3 access logs', name(bucket), targetName, `${prefix}sample`, p, false);
    if (target) {
      const retention = (
        target.resource.Properties?.ObjectLockConfiguration as
          { Rule?: { DefaultRetention?: unknown } } | undefined
      )?.Rule?.DefaultRetention;
      record('S3 access logs', name(bucket), name(target), [
        ['a destination without an Object Lock default retention (S3 refuses one)', retention === undefined],
      ]);
    }
  }
  for (const group of ofType(resources, 'AWS::Logs::LogGroup')) {
    const p = {
      service: `logs.${regionOf(group.stack)}.amazonaws.com`,
      sourceAccount: accountOf(group.stack),
    };
    keyAdmitsService(
      'encrypted log group',
      name(group),
      resolved(group.resource.Properties?.KmsKeyId, group.stack),
      p,
    );
  }

  // ---- who is told ----
  const subscriptions = subscriptionCounts(resources, r);
  const silentTopics = ofType(resources, 'AWS::SNS::Topic')
    .filter((topic) =>
      paths.some((path) => path.destination === `AWS::SNS::Topic ${topic.stack.id}/${topic.id}`),
    )
    .filter((topic) => subscriptions.get(`${topic.stack.id}/${topic.id}`) === 0)
    .map((topic) => `${topic.stack.id}/${topic.id}`);

  const violations: Violation[] = paths
    .filter((path) => !path.passed)
    .map((path) => {
      const [stack, logicalId] = path.source.split(' ').at(-1)!.split('/');
      return {
        invariant: 11,
        stack,
        logicalId,
        detail: `${path.kind} ${path.source} -> ${path.destination}: missing ${path.missing.join('; ')}`,
      };
    });
  return { paths, silentTopics, violations, evidence };
}
