/**
 * The range workflow of the pseudonymization stage (Amazon States Language, JSONata): for a raw
 * object too large for one invocation, the stage's function plans it (reads it once and cuts it
 * at record boundaries into byte ranges), a Distributed Map transforms the ranges side by side
 * (each a child execution calling the function on one range), and the function assembles the
 * curated object, its quarantine and its manifest. Step Functions' own CSV and JSON Lines readers
 * are not used: they number no source lines, fail a run on one malformed row and round numbers,
 * where the stage's reader keeps each record exact. The steps carry tokens, a version id and
 * indexes, never a raw key.
 */

/** Substitutions of the definition: the partition and the stage's function. */
export const RANGE_WORKFLOW_SUBSTITUTIONS = ['Partition', 'Stage'] as const;

/** The Distributed Map's label (its child executions are named `<workflow>/Ranges:<id>`). */
export const RANGES_LABEL = 'Ranges';

/** A run that has not finished in this long is stopped (and alarmed on). */
export const RUN_TIMEOUT_SECONDS = 24 * 60 * 60;

type State = Record<string, unknown>;

/**
 * Retries of a step. Throttling (the function's reserved concurrency, shared with new objects'
 * events) is waited out; any other failure is retried a few times, which is safe because every
 * step writes the same bytes again (its outputs are functions of the raw version and the rules).
 */
const RETRY = [
  {
    // Up to about 8 hours (5 minutes a wait at most): other runs' ranges hold the reserved
    // concurrency for up to 15 minutes each, and a run waits its turn rather than fail.
    ErrorEquals: ['Lambda.TooManyRequestsException'],
    IntervalSeconds: 2,
    BackoffRate: 2,
    MaxDelaySeconds: 300,
    MaxAttempts: 100,
    JitterStrategy: 'FULL',
  },
  {
    ErrorEquals: ['States.ALL'],
    IntervalSeconds: 10,
    BackoffRate: 3,
    MaxAttempts: 3,
    JitterStrategy: 'FULL',
  },
];

/** A call to the stage's function with a step of the run; the state's output is `output`. */
function step(phase: 'plan' | 'range' | 'assemble', output: unknown, next: State): State {
  return {
    Type: 'Task',
    Resource: 'arn:${Partition}:states:::lambda:invoke',
    Arguments: {
      FunctionName: '${Stage}',
      Payload: {
        phase,
        keyToken: '{% $states.input.keyToken %}',
        versionId: '{% $states.input.versionId %}',
        ...(phase === 'range' ? { index: '{% $states.input.index %}' } : {}),
      },
    },
    // Past the function's own 15 minutes: a call that hangs fails and is retried.
    TimeoutSeconds: 16 * 60,
    Retry: RETRY,
    Output: output,
    ...next,
  };
}

/** The workflow; `maxConcurrency` ranges are transformed at once. */
export function rangeWorkflow(options: { readonly maxConcurrency: number }): Record<string, unknown> {
  const run = "{'keyToken': $states.input.keyToken, 'versionId': $states.input.versionId}";
  return {
    Comment:
      'Pseudonymizes a raw object too large for one invocation: plan, transform its ranges side by side, assemble',
    QueryLanguage: 'JSONata',
    TimeoutSeconds: RUN_TIMEOUT_SECONDS,
    StartAt: 'Plan',
    States: {
      Plan: step('plan', `{% $merge([${run}, $states.result.Payload]) %}`, { Next: 'Planned' }),
      Planned: {
        Type: 'Choice',
        Choices: [{ Condition: "{% $states.input.outcome = 'planned' %}", Next: RANGES_LABEL }],
        // Nothing to transform: the file could not be cut (its header, an unclosed quote) and the
        // plan step set it aside whole, or the version was replaced before its run began.
        Default: 'Ended',
      },
      Ended: { Type: 'Succeed' },
      [RANGES_LABEL]: {
        Type: 'Map',
        Label: RANGES_LABEL,
        Items: '{% $states.input.items %}',
        ItemSelector: {
          keyToken: '{% $states.input.keyToken %}',
          versionId: '{% $states.input.versionId %}',
          index: '{% $states.context.Map.Item.Value %}',
        },
        MaxConcurrency: options.maxConcurrency,
        ToleratedFailurePercentage: 0,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Range',
          States: {
            // Each child answers nothing: the parts and their results wait in the staging store,
            // so the map's output stays small however many ranges there are.
            Range: step('range', {}, { End: true }),
          },
        },
        Output: `{% ${run} %}`,
        Next: 'Assemble',
      },
      Assemble: step('assemble', '{% $states.result.Payload %}', { End: true }),
    },
  };
}
