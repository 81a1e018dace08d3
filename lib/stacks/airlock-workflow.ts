import {
  CLEAN_SCAN,
  MAX_PATH,
  MIN_ACCEPTANCE_REASON,
  NOT_EXPORTED,
  OUTGOING_PREFIX,
  PATH_PATTERN,
} from '../airlock';

/**
 * The airlock's import workflow, in Amazon States Language with JSONata. It starts on each
 * GuardDuty Malware Protection scan result of the import zone and fails closed: anything but a
 * clean scan, an object outside the key layout, an inspection or a request that cannot be made is
 * held (tagged with the reason) and recorded; a clean object waits for a reviewer's decision (the
 * task token, which the desk hands back with the reviewer's authenticated identity), and only an
 * approval that passes the workflow's own checks is copied into its target zone. Every outcome is
 * written to the Object-Lock decision log; a log write that fails fails the execution (alarmed).
 *
 * `${Name}` placeholders are CloudFormation definition substitutions (see {@link WORKFLOW_SUBSTITUTIONS}).
 */

/** The substitutions the definition uses, which the stack fills in. */
export const WORKFLOW_SUBSTITUTIONS = [
  'Partition',
  'Worker',
  'Requests',
  'RawBucket',
  'RawKey',
  'RawClass',
  'ModelsBucket',
  'ModelsKey',
  'ModelsClass',
] as const;
export type WorkflowSubstitution = (typeof WORKFLOW_SUBSTITUTIONS)[number];

type State = Record<string, unknown>;

const LAMBDA_RETRY = [
  {
    ErrorEquals: [
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
    ],
    IntervalSeconds: 2,
    MaxAttempts: 6,
    BackoffRate: 2,
  },
];
const SDK_RETRY = [
  {
    ErrorEquals: [
      'DynamoDb.ProvisionedThroughputExceededException',
      'DynamoDb.ThrottlingException',
      'States.Timeout',
    ],
    IntervalSeconds: 2,
    MaxAttempts: 6,
    BackoffRate: 2,
  },
];

/** A call to the worker (or, in the export workflow, the exporter); its result is the function's answer. */
function worker(payload: Record<string, unknown>, next: State, fn: 'Worker' | 'Exporter' = 'Worker'): State {
  return {
    Type: 'Task',
    Resource: 'arn:${Partition}:states:::lambda:invoke',
    Arguments: { FunctionName: `\${${fn}}`, Payload: payload },
    Retry: LAMBDA_RETRY,
    ...next,
  };
}

/** The request's item, updated with `set` (attribute: JSONata expression), with every name escaped. */
function updateRequest(set: Record<string, string>, next: State, remove: string[] = []): State {
  const names = Object.keys(set);
  return {
    Type: 'Task',
    Resource: 'arn:${Partition}:states:::aws-sdk:dynamodb:updateItem',
    Arguments: {
      TableName: '${Requests}',
      Key: { requestId: { S: '{% $requestId %}' } },
      UpdateExpression:
        'SET ' +
        names.map((_, i) => `#n${i} = :v${i}`).join(', ') +
        (remove.length > 0 ? ` REMOVE ${remove.map((_, i) => `#r${i}`).join(', ')}` : ''),
      ExpressionAttributeNames: Object.fromEntries<string>([
        ...names.map((n, i): [string, string] => [`#n${i}`, n]),
        ...remove.map((n, i): [string, string] => [`#r${i}`, n]),
      ]),
      ExpressionAttributeValues: Object.fromEntries(names.map((n, i) => [`:v${i}`, { S: set[n] }])),
    },
    Retry: SDK_RETRY,
    ...next,
  };
}

/** What a workflow's endings write: the function that writes, and what the record and the request hold. */
interface Endings {
  readonly fn: 'Worker' | 'Exporter';
  /** The record's fields besides the reason, and the request item's besides state, reason and time. */
  readonly record: Record<string, string>;
  readonly mark: Record<string, string>;
}

const IMPORT_ENDINGS: Endings = {
  fn: 'Worker',
  record: {
    object: '{% $object %}',
    scan: '{% $scan %}',
    inspected: '{% $inspected %}',
    decision: '{% $decision %}',
  },
  mark: {
    objectBucket: '{% $object.bucket %}',
    objectKey: '{% $object.key %}',
    // Who uploaded, as the key names it (the importer's session), so that they see the outcome.
    requesterId: "{% $substringBefore($substringAfter($object.key, 'incoming/'), '/') %}",
    scan: '{% $scan %}',
  },
};

/**
 * Tag the object, record the outcome, mark the request: the three steps of every ending (the
 * first left out with `hold: false`, where there is no object of the airlock's to tag).
 */
function ending(
  name: string,
  state: string,
  reason: string,
  end: State,
  recordExtra: Record<string, string> = {},
  endings: Endings = IMPORT_ENDINGS,
  hold = true,
): Record<string, State> {
  return {
    ...(hold
      ? {
          [`Hold${name}`]: worker(
            { action: 'hold', object: '{% $object %}', state, reason },
            {
              // A tag that cannot be set (the object is gone) does not stop the record.
              Catch: [{ ErrorEquals: ['States.ALL'], Next: `Record${name}` }],
              Next: `Record${name}`,
            },
            endings.fn,
          ),
        }
      : {}),
    [`Record${name}`]: worker(
      {
        action: 'record',
        requestId: '{% $requestId %}',
        event: state,
        record: { ...endings.record, reason, ...recordExtra },
      },
      { Next: `Mark${name}` },
      endings.fn,
    ),
    [`Mark${name}`]: updateRequest({ state, reason, ...endings.mark, updatedAt: '{% $now() %}' }, end, [
      'taskToken',
    ]),
  };
}

/**
 * The decision as the desk recorded it, read back before it is acted on: the item is written by
 * the desk alone (its key admits only the desk and the workflow, through DynamoDB), so a task
 * token sent by anyone else, with any reviewer it likes, does not match it.
 */
function decisionCheck(next: string, refused: string): Record<string, State> {
  return {
    Recorded: {
      Type: 'Task',
      Resource: 'arn:${Partition}:states:::aws-sdk:dynamodb:getItem',
      Arguments: {
        TableName: '${Requests}',
        Key: { requestId: { S: '{% $requestId %}' } },
        ConsistentRead: true,
      },
      Retry: SDK_RETRY,
      Catch: [
        {
          ErrorEquals: ['States.ALL'],
          Assign: { reason: "{% 'the decision could not be read back: ' & $states.errorOutput.Error %}" },
          Next: refused,
        },
      ],
      Next: 'AsRecorded',
      Assign: {
        recorded: '{% $states.result.Item %}',
        reason: 'a decision the desk did not record: the workflow acts only on what the desk wrote',
      },
    },
    AsRecorded: {
      Type: 'Choice',
      Choices: [
        {
          Condition:
            "{% $recorded.state.S = ($decision.decision = 'approve' ? 'approved' : 'rejected') " +
            'and $recorded.reviewerId.S = $decision.reviewerId and $recorded.decidedAt.S = $decision.decidedAt %}',
          // From here on the decision is the desk's record of it, field by field (who, why, what
          // was accepted), never what the task token's sender wrote.
          Assign: {
            decision:
              "{% $merge([{'decision': $decision.decision, 'reason': $recorded.reviewReason.S, " +
              "'reviewerArn': $recorded.reviewerArn.S, 'reviewerId': $recorded.reviewerId.S, 'decidedAt': $recorded.decidedAt.S}, " +
              "$exists($recorded.codeExecutionAccepted.S) ? {'codeExecutionAccepted': $recorded.codeExecutionAccepted.S} : {}]) %}",
          },
          Next: next,
        },
      ],
      Default: refused,
    },
  };
}

/**
 * Records the request (`item`, a JSONata expression of its DynamoDB item) with this task's token,
 * once (a request id already there fails the write), and waits for the desk to hand back a
 * decision: no decision in time expires the request; a write that fails (after the `catches`
 * given) goes to `failed` with the reason.
 */
function awaitReview(reviewSeconds: number, item: string, catches: State[], failed: string): State {
  return {
    Type: 'Task',
    Comment: "Records the request with this task's token and waits for the desk to hand back a decision",
    Resource: 'arn:${Partition}:states:::aws-sdk:dynamodb:putItem.waitForTaskToken',
    Arguments: {
      TableName: '${Requests}',
      ConditionExpression: 'attribute_not_exists(requestId)',
      Item: item,
    },
    TimeoutSeconds: reviewSeconds,
    Assign: { decision: '{% $states.result %}' },
    Catch: [
      { ErrorEquals: ['States.Timeout'], Assign: { reason: 'no decision in time' }, Next: 'HoldExpired' },
      ...catches,
      {
        ErrorEquals: ['States.ALL'],
        Assign: { reason: "{% 'the request could not be recorded: ' & $states.errorOutput.Error %}" },
        Next: failed,
      },
    ],
    Next: 'Recorded',
  };
}

export interface WorkflowOptions {
  /** Days a clean import waits for a decision. */
  readonly reviewDays: number;
}

/** The state machine's definition. */
export function importWorkflow(options: WorkflowOptions): Record<string, unknown> {
  const reviewSeconds = options.reviewDays * 24 * 60 * 60;
  const target =
    "{% $inspected.object.targetZone = 'raw' " +
    "? {'bucket': '${RawBucket}', 'key': $inspected.object.targetKey, 'kmsKeyArn': '${RawKey}'} " +
    ": {'bucket': '${ModelsBucket}', 'key': $inspected.object.targetKey, 'kmsKeyArn': '${ModelsKey}'} %}";
  const states: Record<string, State> = {
    Received: {
      Type: 'Pass',
      Comment: 'A GuardDuty Malware Protection scan result for an object of the import zone',
      Assign: {
        // One request per object version, however often its scan result is delivered.
        requestId:
          "{% $hash($states.input.detail.s3ObjectDetails.bucketName & '/' & $states.input.detail.s3ObjectDetails.objectKey & '?' & $states.input.detail.s3ObjectDetails.versionId, 'SHA-256') %}",
        object:
          "{% {'bucket': $states.input.detail.s3ObjectDetails.bucketName, 'key': $states.input.detail.s3ObjectDetails.objectKey, 'versionId': $states.input.detail.s3ObjectDetails.versionId} %}",
        scan: "{% $exists($states.input.detail.scanResultDetails.scanResultStatus) ? $states.input.detail.scanResultDetails.scanResultStatus : 'NONE' %}",
        reason:
          "{% 'GuardDuty Malware Protection: ' & $states.input.detail.scanStatus & ' ' & $states.input.detail.scanResultDetails.scanResultStatus %}",
        inspected: '{% {} %}',
        decision: '{% {} %}',
      },
      Next: 'Scanned',
    },
    Scanned: {
      Type: 'Choice',
      Choices: [{ Condition: `{% $scan = '${CLEAN_SCAN}' %}`, Next: 'Inspect' }],
      Default: 'HoldQuarantined',
    },
    Inspect: worker(
      { action: 'inspect', object: '{% $object %}' },
      {
        Assign: { inspected: '{% $states.result.Payload %}' },
        Catch: [
          {
            ErrorEquals: ['States.ALL'],
            Assign: { reason: "{% 'inspection failed: ' & $states.errorOutput.Error %}" },
            Next: 'HoldQuarantined',
          },
        ],
        Next: 'Laid out',
      },
    ),
    'Laid out': {
      Type: 'Choice',
      Choices: [
        {
          Condition: '{% $exists($inspected.error) %}',
          Assign: { reason: '{% $inspected.error %}' },
          Next: 'HoldQuarantined',
        },
      ],
      Default: 'AwaitReview',
    },
    AwaitReview: awaitReview(
      reviewSeconds,
      "{% $merge([{'requestId': {'S': $requestId}, 'kind': {'S': 'import'}, 'state': {'S': 'awaiting-review'}, " +
        "'requesterId': {'S': $inspected.object.uploaderId}, 'importKind': {'S': $inspected.object.kind}, " +
        "'path': {'S': $inspected.object.path}, 'objectBucket': {'S': $object.bucket}, 'objectKey': {'S': $object.key}, " +
        "'versionId': {'S': $inspected.versionId}, 'targetZone': {'S': $inspected.object.targetZone}, " +
        "'targetKey': {'S': $inspected.object.targetKey}, 'size': {'N': $string($inspected.size)}, " +
        "'checksum': {'S': $string($inspected.checksum)}, 'scan': {'S': $scan}, " +
        "'taskToken': {'S': $states.context.Task.Token}, 'createdAt': {'S': $now()}}, " +
        "$exists($inspected.codeExecution) ? {'codeExecution': {'S': $inspected.codeExecution}} : {}]) %}",
      [
        // The same scan result delivered again: its request exists, and the first execution has it.
        { ErrorEquals: ['DynamoDb.ConditionalCheckFailedException'], Next: 'Duplicate' },
      ],
      'HoldQuarantined',
    ),
    Duplicate: {
      Type: 'Succeed',
      Comment: 'A scan result delivered again; its request is handled by the first execution',
    },
    ...decisionCheck('Decided', 'HoldQuarantined'),
    Decided: {
      Type: 'Choice',
      Comment:
        "The workflow's own checks of an approval: not by the uploader's role or session, and code that runs on load accepted with a reason",
      Choices: [
        {
          Condition:
            "{% $decision.decision = 'approve' " +
            "and $substringBefore($decision.reviewerId, ':') != $inspected.object.uploaderRoleId " +
            "and $lowercase($substringAfter($decision.reviewerId, ':')) != $lowercase($inspected.object.uploaderSession) " +
            `and ($not($exists($inspected.codeExecution)) or $length($decision.codeExecutionAccepted) >= ${MIN_ACCEPTANCE_REASON}) %}`,
          Next: 'Copy',
        },
        {
          Condition: "{% $decision.decision = 'approve' %}",
          Assign: {
            reason:
              'an approval the workflow refuses: by the uploader, or of code that runs on load without an accepted reason',
          },
          Next: 'HoldQuarantined',
        },
      ],
      Default: 'HoldRejected',
    },
    Copy: worker(
      {
        action: 'copy',
        source: "{% {'bucket': $object.bucket, 'key': $object.key, 'versionId': $inspected.versionId} %}",
        target,
        // Checked again on the very version copied: a scan result the workflow was started with is not proof.
        requireTags: { GuardDutyMalwareScanStatus: CLEAN_SCAN },
        // The worker copies only what the request's recorded approval names.
        approval: { requestId: '{% $requestId %}' },
        tags: {
          'airlock-request': '{% $requestId %}',
          DataClassification: "{% $inspected.object.targetZone = 'raw' ? '${RawClass}' : '${ModelsClass}' %}",
        },
      },
      {
        Assign: { copied: '{% $states.result.Payload %}' },
        Catch: [
          {
            ErrorEquals: ['States.ALL'],
            Assign: {
              reason:
                "{% 'the copy failed: ' & $states.errorOutput.Error & ': ' & $states.errorOutput.Cause %}",
            },
            Next: 'HoldCopyFailed',
          },
        ],
        Next: 'HoldCopied',
      },
    ),
    ...ending(
      'Copied',
      'copied',
      "{% 'approved by ' & $decision.reviewerArn & ': ' & $decision.reason %}",
      { Next: 'Imported' },
      { copied: '{% $copied %}' },
    ),
    Imported: { Type: 'Succeed' },
    ...ending(
      'Rejected',
      'rejected',
      "{% 'rejected by ' & $decision.reviewerArn & ': ' & $decision.reason %}",
      {
        Next: 'Refused',
      },
    ),
    Refused: { Type: 'Succeed' },
    ...ending('Quarantined', 'quarantined', '{% $reason %}', { Next: 'Held' }),
    Held: { Type: 'Succeed' },
    ...ending('Expired', 'expired', '{% $reason %}', { Next: 'Lapsed' }),
    Lapsed: { Type: 'Succeed' },
    ...ending('CopyFailed', 'copy-failed', '{% $reason %}', { Next: 'CopyFailed' }),
    CopyFailed: {
      Type: 'Fail',
      Error: 'Airlock.CopyFailed',
      Cause: 'An approved import could not be copied',
    },
  };
  return {
    Comment: "The airlock's import workflow: scan result, inspection, review, copy, record",
    QueryLanguage: 'JSONata',
    StartAt: 'Received',
    States: states,
  };
}

/** The export workflow's substitutions besides each source zone's bucket (`SourceBucket<Zone>`). */
export const EXPORT_SUBSTITUTIONS = [
  'Partition',
  'Exporter',
  'Requests',
  'ExportBucket',
  'ExportKey',
  'DestinationBucket',
  'DestinationPrefix',
  'DestinationAccount',
] as const;
export type ExportSubstitution = (typeof EXPORT_SUBSTITUTIONS)[number];

/** The substitution that names a source zone's bucket in the export workflow. */
export const sourceBucketSubstitution = (zone: string) =>
  `SourceBucket${zone.charAt(0).toUpperCase()}${zone.slice(1).replace(/-(\w)/g, (_, c: string) => c.toUpperCase())}`;

export interface ExportWorkflowOptions {
  readonly reviewDays: number;
  /** The zones an export may name, each with the class of data it holds (which the staged copy takes). */
  readonly sources: readonly { readonly zone: string; readonly classification: string }[];
}

const EXPORT_ENDINGS: Endings = {
  fn: 'Exporter',
  record: {
    request: '{% $request %}',
    staged: '{% $staged %}',
    decision: '{% $decision %}',
  },
  mark: {
    kind: 'export',
    requesterId: '{% $request.requesterId %}',
    source: '{% $request.source %}',
    sourceKey: '{% $request.key %}',
  },
};

/**
 * The airlock's export workflow: started by the desk for a requester's authenticated request (one
 * object of a source zone), it stages a copy in the export zone tagged with the class of its source
 * zone (known here at synth, never from a tag anyone set), waits for a reviewer who is not the
 * requester, and copies an approved one to the destination outside, in the account that must own
 * it. A source that is not one of the configured zones (so never a phi zone: the config refuses
 * those) is refused before anything is staged. Every outcome is recorded in the decision log.
 */
export function exportWorkflow(options: ExportWorkflowOptions): Record<string, unknown> {
  const reviewSeconds = options.reviewDays * 24 * 60 * 60;
  const map = (value: (s: ExportWorkflowOptions['sources'][number]) => string) =>
    `{${options.sources.map((s) => `'${s.zone}': '${value(s)}'`).join(', ')}}`;
  const buckets = map((s) => `\${${sourceBucketSubstitution(s.zone)}}`);
  // A key under a prefix its zone never exports (NOT_EXPORTED) is refused before anything is staged.
  const excluded = options.sources
    .flatMap((s) =>
      (NOT_EXPORTED[s.zone] ?? []).map(
        (p) => `($request.source = '${s.zone}' and $substring($request.key, 0, ${p.length}) = '${p}')`,
      ),
    )
    .join(' or ');
  const classes = map((s) => s.classification);
  const states: Record<string, State> = {
    Received: {
      Type: 'Pass',
      Comment: "A requester's export request, as the desk authenticated it",
      Assign: {
        requestId: '{% $states.context.Execution.Name %}',
        request: '{% $states.input %}',
        // '' for a source that is not one of the export's zones (an expression may not be undefined).
        sourceBucket: `{% $exists($lookup(${buckets}, $string($states.input.source))) ? $lookup(${buckets}, $string($states.input.source)) : '' %}`,
        classification: `{% $exists($lookup(${classes}, $string($states.input.source))) ? $lookup(${classes}, $string($states.input.source)) : '' %}`,
        object: '{% {} %}',
        staged: '{% {} %}',
        decision: '{% {} %}',
        reason:
          "{% 'the source ' & $string($states.input.source) & ' is not a zone the airlock exports from, or the key not one it exports' %}",
      },
      Next: 'Known',
    },
    Known: {
      Type: 'Choice',
      Choices: [
        {
          // A known source, and a key of the layout the desk checks (the same rule, again here).
          Condition:
            "{% $sourceBucket != '' and $classification != '' and $type($request.key) = 'string' " +
            `and $length($request.key) <= ${MAX_PATH} and $contains($request.key, /${PATH_PATTERN}/)` +
            (excluded ? ` and $not(${excluded})` : '') +
            ' %}',
          Next: 'Stage',
        },
      ],
      Default: 'RecordUnstaged',
    },
    Stage: worker(
      {
        action: 'copy',
        source: "{% {'bucket': $sourceBucket, 'key': $request.key} %}",
        target: `{% {'bucket': '\${ExportBucket}', 'key': '${OUTGOING_PREFIX}' & $requestId & '/' & $request.key, 'kmsKeyArn': '\${ExportKey}'} %}`,
        tags: {
          'airlock-request': '{% $requestId %}',
          // The class of the source zone, set here from the configuration.
          DataClassification: '{% $classification %}',
          'airlock-source': '{% $request.source %}',
        },
      },
      {
        Assign: {
          staged: '{% $states.result.Payload %}',
          object:
            "{% {'bucket': $states.result.Payload.bucket, 'key': $states.result.Payload.key, 'versionId': $states.result.Payload.versionId} %}",
        },
        Catch: [
          {
            ErrorEquals: ['States.ALL'],
            Assign: {
              reason:
                "{% 'the object could not be staged: ' & $states.errorOutput.Error & ': ' & $states.errorOutput.Cause %}",
            },
            Next: 'RecordUnstaged',
          },
        ],
        Next: 'AwaitReview',
      },
      'Exporter',
    ),
    AwaitReview: awaitReview(
      reviewSeconds,
      "{% {'requestId': {'S': $requestId}, 'kind': {'S': 'export'}, 'state': {'S': 'awaiting-review'}, " +
        "'requesterId': {'S': $request.requesterId}, 'requesterArn': {'S': $request.requesterArn}, " +
        "'requestReason': {'S': $request.reason}, 'source': {'S': $request.source}, " +
        "'sourceKey': {'S': $request.key}, 'sourceVersionId': {'S': $staged.sourceVersionId}, " +
        "'classification': {'S': $classification}, 'objectBucket': {'S': $object.bucket}, " +
        "'objectKey': {'S': $object.key}, 'versionId': {'S': $object.versionId}, " +
        "'size': {'N': $string($staged.size)}, 'checksum': {'S': $string($staged.checksum)}, " +
        "'destination': {'S': 's3://${DestinationBucket}/${DestinationPrefix}' & $requestId & '/' & $request.key}, " +
        "'taskToken': {'S': $states.context.Task.Token}, 'createdAt': {'S': $now()}} %}",
      [],
      'HoldRefused',
    ),
    ...decisionCheck('Decided', 'HoldRefused'),
    Decided: {
      Type: 'Choice',
      Comment: "The workflow's own check of an approval: not by the requester's role or session",
      Choices: [
        {
          Condition:
            "{% $decision.decision = 'approve' " +
            "and $substringBefore($decision.reviewerId, ':') != $substringBefore($request.requesterId, ':') " +
            "and $lowercase($substringAfter($decision.reviewerId, ':')) != $lowercase($substringAfter($request.requesterId, ':')) %}",
          Next: 'Send',
        },
        {
          Condition: "{% $decision.decision = 'approve' %}",
          Assign: { reason: 'an approval the workflow refuses: by the requester' },
          Next: 'HoldRefused',
        },
      ],
      Default: 'HoldRejected',
    },
    Send: worker(
      {
        action: 'copy',
        source: '{% $object %}',
        target:
          "{% {'bucket': '${DestinationBucket}', 'key': '${DestinationPrefix}' & $requestId & '/' & $request.key, 'expectedOwner': '${DestinationAccount}'} %}",
        tags: {
          'airlock-request': '{% $requestId %}',
          DataClassification: '{% $classification %}',
        },
        // The exporter sends only what the request's recorded approval names.
        approval: { requestId: '{% $requestId %}' },
      },
      {
        Assign: { sent: '{% $states.result.Payload %}' },
        Catch: [
          {
            ErrorEquals: ['States.ALL'],
            Assign: {
              reason:
                "{% 'the export could not be sent: ' & $states.errorOutput.Error & ': ' & $states.errorOutput.Cause %}",
            },
            Next: 'HoldSendFailed',
          },
        ],
        Next: 'HoldSent',
      },
      'Exporter',
    ),
    ...ending(
      'Sent',
      'sent',
      "{% 'approved by ' & $decision.reviewerArn & ': ' & $decision.reason %}",
      { Next: 'Exported' },
      { sent: '{% $sent %}' },
      EXPORT_ENDINGS,
    ),
    Exported: { Type: 'Succeed' },
    ...ending(
      'Rejected',
      'rejected',
      "{% 'rejected by ' & $decision.reviewerArn & ': ' & $decision.reason %}",
      { Next: 'NotSent' },
      {},
      EXPORT_ENDINGS,
    ),
    NotSent: { Type: 'Succeed' },
    ...ending('Refused', 'refused', '{% $reason %}', { Next: 'Held' }, {}, EXPORT_ENDINGS),
    Held: { Type: 'Succeed' },
    ...ending('Unstaged', 'refused', '{% $reason %}', { Next: 'NotStaged' }, {}, EXPORT_ENDINGS, false),
    NotStaged: { Type: 'Succeed' },
    ...ending('Expired', 'expired', '{% $reason %}', { Next: 'Lapsed' }, {}, EXPORT_ENDINGS),
    Lapsed: { Type: 'Succeed' },
    ...ending('SendFailed', 'send-failed', '{% $reason %}', { Next: 'SendFailed' }, {}, EXPORT_ENDINGS),
    SendFailed: {
      Type: 'Fail',
      Error: 'Airlock.SendFailed',
      Cause: 'An approved export could not be sent',
    },
  };
  return {
    Comment: "The airlock's export workflow: request, staging, review, sending, record",
    QueryLanguage: 'JSONata',
    StartAt: 'Received',
    States: states,
  };
}
