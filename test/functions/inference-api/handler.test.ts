import { InvokeEndpointCommand } from '@aws-sdk/client-sagemaker-runtime';
import { makeBackend, type ProxyEvent, type RuntimeLike } from '../../../lib/functions/inference-api/handler';

const ENDPOINT = 'aiseg-inference-endpoint';
const event = (body: string): ProxyEvent => ({
  body,
  requestContext: {
    requestId: 'req-1',
    identity: { userArn: 'arn:aws:sts::123456789012:assumed-role/app/x' },
  },
});
const PAYLOAD = '{"instances":[{"age":"90+","zip":"021","note":"SECRET-PAYLOAD"}]}';

function backend(send: RuntimeLike['send'], timeoutMs = 200) {
  const lines: string[] = [];
  const handle = makeBackend({ send }, { endpointName: ENDPOINT, timeoutMs }, (line) => lines.push(line));
  return { handle, lines };
}

class SdkError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

describe('the inference backend', () => {
  test('invokes the configured endpoint with the body and answers with the model response', async () => {
    const calls: InvokeEndpointCommand[] = [];
    const { handle, lines } = backend((command) => {
      calls.push(command);
      return Promise.resolve({ Body: Buffer.from('{"predictions":[0.12]}') });
    });
    const result = await handle(event(PAYLOAD));
    expect(result).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"predictions":[0.12]}',
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(InvokeEndpointCommand);
    expect(calls[0].input).toMatchObject({ EndpointName: ENDPOINT, ContentType: 'application/json' });
    expect(Buffer.from(calls[0].input.Body as Uint8Array).toString('utf8')).toBe(PAYLOAD);
    expect(JSON.parse(lines[0])).toMatchObject({
      requestId: 'req-1',
      status: 200,
      outcome: 'ok',
      endpoint: ENDPOINT,
    });
  });

  test('a missing endpoint is a clear 503 naming it', async () => {
    const { handle, lines } = backend(() =>
      Promise.reject(
        new SdkError('ValidationError', `Endpoint ${ENDPOINT} of account 123456789012 not found.`),
      ),
    );
    const result = await handle(event(PAYLOAD));
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toEqual({
      message: `SageMaker endpoint ${ENDPOINT} does not exist (yet): deploy a model to it`,
      requestId: 'req-1',
    });
    expect(JSON.parse(lines[0])).toMatchObject({ status: 503, outcome: 'endpoint-missing' });
  });

  test('a model that does not answer in time is a 504, and the call is aborted', async () => {
    let aborted = false;
    const { handle } = backend(
      (_command, options) =>
        new Promise((_resolve, reject) => {
          options?.abortSignal?.addEventListener('abort', () => {
            aborted = true;
            reject(new SdkError('AbortError', 'Request aborted'));
          });
        }),
      50,
    );
    const result = await handle(event(PAYLOAD));
    expect(result.statusCode).toBe(504);
    expect(aborted).toBe(true);
  });

  test('a model error is a 502; anything else is thrown (API Gateway answers 502 and the 5XX alarm counts it)', async () => {
    expect(
      (await backend(() => Promise.reject(new SdkError('ModelError', 'boom'))).handle(event(PAYLOAD)))
        .statusCode,
    ).toBe(502);
    await expect(
      backend(() => Promise.reject(new SdkError('AccessDeniedException', 'no'))).handle(event(PAYLOAD)),
    ).rejects.toThrow('no');
  });

  test('logs sizes, status and latency, never the payload or the response', async () => {
    const { handle, lines } = backend(() =>
      Promise.resolve({ Body: Buffer.from('{"predictions":["RESPONSE-SECRET"]}') }),
    );
    await handle(event(PAYLOAD));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('SECRET');
    expect(JSON.parse(lines[0])).toMatchObject({
      requestBytes: Buffer.byteLength(PAYLOAD),
      latencyMs: expect.any(Number),
    });
  });
});
