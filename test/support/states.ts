import { createHash } from 'node:crypto';
import jsonata from 'jsonata';

/**
 * Runs a Step Functions state machine written in JSONata (the subset the blueprint's workflows
 * use: Pass, Choice, Task, Map, Succeed, Fail; Arguments, Assign, Output, Catch, TimeoutSeconds;
 * a Map's Items, ItemSelector and ItemProcessor, its items run side by side) with
 * the real JSONata engine, against task handlers a test provides. What it proves is that the
 * definition's expressions evaluate, and that the data it hands to tasks has the shape they read;
 * it does not prove Step Functions' service integrations themselves.
 */

export interface TaskCall {
  readonly state: string;
  readonly resource: string;
  readonly args: unknown;
  /** The task token, for a `.waitForTaskToken` resource. */
  readonly token?: string;
  readonly timeoutSeconds?: number;
}

/** A task's failure, as Step Functions names it (`States.Timeout`, `Lambda.ServiceException`, ...). */
export class TaskError extends Error {
  constructor(
    readonly error: string,
    override readonly cause = '',
  ) {
    super(`${error}: ${cause}`);
  }
}

export interface Execution {
  readonly status: 'SUCCEEDED' | 'FAILED';
  /** The states entered, in order. */
  readonly path: string[];
  readonly variables: Record<string, unknown>;
  readonly error?: string;
  /** What the execution ended with (its last state's output), when it succeeded. */
  readonly output?: unknown;
}

type Json = unknown;
const EXPRESSION = /^\{%([\s\S]*)%\}$/;

/** Step Functions' `$hash(value, algorithm)`: the hex digest of the value's UTF-8 bytes. */
function stepFunctionsHash(value: string, algorithm: string): string {
  const names: Record<string, string> = {
    MD5: 'md5',
    'SHA-1': 'sha1',
    'SHA-256': 'sha256',
    'SHA-384': 'sha384',
    'SHA-512': 'sha512',
  };
  if (!names[algorithm]) throw new Error(`$hash: no algorithm ${algorithm}`);
  return createHash(names[algorithm]).update(value, 'utf8').digest('hex');
}

async function evaluate(value: Json, bindings: Record<string, unknown>): Promise<Json> {
  if (typeof value === 'string') {
    const match = EXPRESSION.exec(value);
    if (!match) return value;
    return jsonata(match[1].trim()).evaluate({}, { ...bindings, hash: stepFunctionsHash });
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => evaluate(v, bindings)));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const evaluated = await evaluate(v, bindings);
      if (evaluated !== undefined) out[k] = evaluated;
    }
    return out;
  }
  return value;
}

/** Replaces `${Name}` definition substitutions, as CloudFormation does before Step Functions reads it. */
export function substitute(definition: object, values: Record<string, string>): Record<string, unknown> {
  const text = JSON.stringify(definition).replace(/\$\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in values)) throw new Error(`no substitution for ${whole}`);
    return values[name];
  });
  return JSON.parse(text) as Record<string, unknown>;
}

export async function execute(
  definition: Record<string, unknown>,
  input: Json,
  task: (call: TaskCall) => Promise<Json>,
  options: { executionName?: string; maxSteps?: number } = {},
): Promise<Execution> {
  const states = definition.States as Record<string, Record<string, unknown>>;
  const variables: Record<string, unknown> = {};
  const path: string[] = [];
  const context = (token?: string, item?: { Index: number; Value: unknown }) => ({
    Execution: { Name: options.executionName ?? 'execution-1' },
    ...(token ? { Task: { Token: token } } : {}),
    ...(item ? { Map: { Item: item } } : {}),
  });
  let name = definition.StartAt as string;
  let current: Json = input;
  for (let step = 0; step < (options.maxSteps ?? 100); step++) {
    const state = states[name];
    if (!state) throw new Error(`no state ${name}`);
    path.push(name);
    const bind = (extra: Record<string, unknown> = {}, token?: string) => ({
      ...variables,
      states: { input: current, context: context(token), ...extra },
    });
    const assign = async (assignments: unknown, bindings: Record<string, unknown>) => {
      const values = (await evaluate(assignments ?? {}, bindings)) as Record<string, unknown>;
      Object.assign(variables, values);
    };
    switch (state.Type) {
      case 'Pass': {
        await assign(state.Assign, bind());
        current = state.Output !== undefined ? await evaluate(state.Output, bind()) : current;
        break;
      }
      case 'Choice': {
        let next = state.Default as string | undefined;
        for (const choice of state.Choices as Record<string, unknown>[]) {
          if ((await evaluate(choice.Condition, bind())) === true) {
            await assign(choice.Assign, bind());
            next = choice.Next as string;
            break;
          }
        }
        if (!next) throw new Error(`choice ${name} matched nothing and has no Default`);
        name = next;
        continue;
      }
      case 'Task': {
        const resource = String(state.Resource);
        const token = resource.endsWith('.waitForTaskToken') ? `token-${name}-${step}` : undefined;
        try {
          const args = await evaluate(state.Arguments ?? {}, bind({}, token));
          const result = await task({
            state: name,
            resource,
            args,
            ...(token ? { token } : {}),
            ...(state.TimeoutSeconds !== undefined ? { timeoutSeconds: state.TimeoutSeconds as number } : {}),
          });
          await assign(state.Assign, bind({ result }));
          current = state.Output !== undefined ? await evaluate(state.Output, bind({ result })) : result;
        } catch (err) {
          const error = err instanceof TaskError ? err.error : 'States.TaskFailed';
          const cause = err instanceof TaskError ? err.cause : String(err);
          const catcher = ((state.Catch ?? []) as Record<string, unknown>[]).find((c) =>
            (c.ErrorEquals as string[]).some((e) => e === error || e === 'States.ALL'),
          );
          if (!catcher) return { status: 'FAILED', path, variables, error };
          const errorOutput = { Error: error, Cause: cause };
          await assign(catcher.Assign, bind({ errorOutput }));
          current = errorOutput;
          name = catcher.Next as string;
          continue;
        }
        break;
      }
      case 'Map': {
        const items = (await evaluate(state.Items ?? '{% $states.input %}', bind())) as unknown[];
        if (!Array.isArray(items)) throw new Error(`map ${name}: Items is not an array`);
        const processor = state.ItemProcessor as Record<string, unknown>;
        const results = await Promise.all(
          items.map(async (value, index) => {
            const itemBindings = {
              ...variables,
              states: { input: current, context: context(undefined, { Index: index, Value: value }) },
            };
            const itemInput =
              state.ItemSelector !== undefined ? await evaluate(state.ItemSelector, itemBindings) : value;
            return execute(
              { ...processor, QueryLanguage: definition.QueryLanguage },
              itemInput,
              task,
              options,
            );
          }),
        );
        const failed = results.find((r) => r.status === 'FAILED');
        if (failed)
          return {
            status: 'FAILED',
            path,
            variables,
            error: failed.error ?? 'States.ExceedToleratedFailureThreshold',
          };
        const result = results.map((r) => r.output);
        await assign(state.Assign, bind({ result }));
        current = state.Output !== undefined ? await evaluate(state.Output, bind({ result })) : result;
        break;
      }
      case 'Succeed':
        return { status: 'SUCCEEDED', path, variables, output: current };
      case 'Fail':
        return { status: 'FAILED', path, variables, error: String(state.Error) };
      default:
        throw new Error(`state type ${String(state.Type)} is not supported here`);
    }
    if (state.End === true) return { status: 'SUCCEEDED', path, variables, output: current };
    name = state.Next as string;
  }
  throw new Error('the execution did not end');
}
