import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

/** The parts of an API Gateway (REST, Lambda proxy) event the backend reads. */
export interface ProxyEvent {
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext?: {
    readonly requestId?: string;
    readonly identity?: { readonly userArn?: string | null };
  };
}

export interface ProxyResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The minimal surface of the SageMaker runtime client the backend uses. */
export interface RuntimeLike {
  send(
    command: InvokeEndpointCommand,
    options?: { abortSignal?: AbortSignal },
  ): Promise<{ Body?: Uint8Array }>;
}

export interface BackendConfig {
  readonly endpointName: string;
  readonly timeoutMs: number;
}

const json = (statusCode: number, body: unknown): ProxyResult => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/**
 * Invokes the one SageMaker endpoint it may with the request body, within a time limit, and
 * answers with the model's response. Logs one JSON line per request: ids, the caller, sizes,
 * status and latency, never the payload.
 */
export function makeBackend(
  runtime: RuntimeLike,
  config: BackendConfig,
  log = (line: string) => console.log(line),
) {
  return async (event: ProxyEvent): Promise<ProxyResult> => {
    const started = Date.now();
    const requestId = event.requestContext?.requestId;
    const payload = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    const record = (status: number, outcome: string, responseBytes = 0) =>
      log(
        JSON.stringify({
          message: 'inference',
          requestId,
          caller: event.requestContext?.identity?.userArn ?? undefined,
          endpoint: config.endpointName,
          status,
          outcome,
          requestBytes: payload.length,
          responseBytes,
          latencyMs: Date.now() - started,
        }),
      );
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), config.timeoutMs);
    try {
      const out = await runtime.send(
        new InvokeEndpointCommand({
          EndpointName: config.endpointName,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: payload,
        }),
        { abortSignal: abort.signal },
      );
      const body = Buffer.from(out.Body ?? new Uint8Array()).toString('utf8');
      record(200, 'ok', Buffer.byteLength(body));
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body };
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (abort.signal.aborted || e.name === 'AbortError' || e.name === 'TimeoutError') {
        record(504, 'timeout');
        return json(504, { message: `the model did not answer within ${config.timeoutMs} ms`, requestId });
      }
      if (e.name === 'ValidationError' && /endpoint .* not found/i.test(e.message ?? '')) {
        record(503, 'endpoint-missing');
        return json(503, {
          message: `SageMaker endpoint ${config.endpointName} does not exist (yet): deploy a model to it`,
          requestId,
        });
      }
      if (e.name === 'ModelError') {
        record(502, 'model-error');
        return json(502, { message: 'the model failed on this request', requestId });
      }
      record(500, e.name ?? 'error');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  };
}

let live: ((event: ProxyEvent) => Promise<ProxyResult>) | undefined;

/** The Lambda entry point: the endpoint and the time limit come from the function's environment. */
export async function handler(event: ProxyEvent): Promise<ProxyResult> {
  if (!live) {
    const endpointName = process.env.ENDPOINT_NAME;
    const timeoutMs = Number(process.env.TIMEOUT_MS);
    if (!endpointName || !(timeoutMs > 0)) throw new Error('ENDPOINT_NAME and TIMEOUT_MS must be set');
    live = makeBackend(new SageMakerRuntimeClient({ maxAttempts: 1 }), { endpointName, timeoutMs });
  }
  return live(event);
}
