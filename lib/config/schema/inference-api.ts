import { z } from 'zod';
import { defaultText, name, PRINCIPAL_ARN } from './fields';
import { duplicates, type CrossFieldRule } from './rules';
import { namedSegment, segmentOfKind, type RawSegment } from './segments';

const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

const count = (what: string, min: number, max: number) =>
  z
    .number()
    .int('expected a whole number')
    .min(min, `expected ${what} from ${min} to ${max}`)
    .max(max, `expected ${what} from ${min} to ${max}`);

// Shape

const model = z
  .strictObject({
    name: z
      .string()
      .regex(
        SAGEMAKER_NAME,
        'expected a SageMaker model name: letters, digits and hyphens, at most 63 characters',
      )
      .describe('The SageMaker model to serve, created beforehand through the ML engineer role.'),
    instanceType: z
      .string()
      .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'expected a SageMaker instance type such as ml.m5.large')
      .describe("The endpoint's instance type, such as `ml.m5.large`."),
    initialInstanceCount: count('an instance count', 1, 10)
      .default(1)
      .describe('Instances the endpoint starts with, 1 to 10.'),
    captureSamplingPercentage: count('a sampling percentage', 1, 100)
      .default(100)
      .describe('Percentage of requests whose request and response are captured, 1 to 100.'),
  })
  .optional()
  .describe(
    'A model (created beforehand, through the ML engineer role) to serve at the endpoint: the blueprint then creates the endpoint configuration, which captures requests and responses to the models zone, and the endpoint.',
  )
  .register(defaultText, {
    text: 'none: the blueprint creates no endpoint, and the API answers 503 until `endpointName` exists',
  });

const throttle = z
  .strictObject({
    rateLimit: count('a rate', 1, 10_000).default(20).describe('Steady requests per second, 1 to 10000.'),
    burstLimit: count('a burst', 1, 5_000)
      .default(40)
      .describe('Requests in a burst, 1 to 5000, and at least `rateLimit`.'),
  })
  .describe('Stage throttling, which the usage plan applies too: steady requests per second and burst.');

const quota = z
  .strictObject({
    limit: count('a quota', 1, 1_000_000_000)
      .default(100_000)
      .describe('Requests per period, 1 to 1000000000.'),
    period: z
      .enum(['DAY', 'WEEK', 'MONTH'], { error: 'expected DAY, WEEK or MONTH' })
      .default('DAY')
      .describe('The period the quota counts over.'),
  })
  .describe("The usage plan's quota.");

const caller = z.strictObject({
  name: name('an application name', 30).describe(
    "The consuming application, part of its caller role's name; lower-case letters, digits and single hyphens, at most 30 characters; unique.",
  ),
  principals: z
    .array(
      z
        .string()
        .regex(
          PRINCIPAL_ARN,
          'expected an IAM role or user ARN such as arn:aws:iam::123456789012:role/ClinicalApp (not an account root, which would trust every principal of that account)',
        ),
    )
    .min(1, 'expected at least one principal')
    .describe("IAM role or user ARNs that may assume the application's caller role; at least one."),
});

const inferenceApi = z
  .strictObject({
    segment: name('a segment name', 20)
      .optional()
      .describe('The inference segment the API and its backend live in; required when there are several.')
      .register(defaultText, { text: 'the only inference segment' }),
    endpointName: z
      .string()
      .regex(
        SAGEMAKER_NAME,
        'expected a SageMaker endpoint name: letters, digits and hyphens, at most 63 characters',
      )
      .optional()
      .describe('The SageMaker endpoint the backend invokes, the only one it may.')
      .register(defaultText, { text: '`<namePrefix>-<segment>-endpoint`' }),
    model,
    wafRateLimit: count('a rate limit', 10, 2_000_000_000)
      .default(1000)
      .describe(
        'Requests per source address per 5 minutes that AWS WAF lets through (rate-based rule), 10 to 2000000000.',
      ),
    maxBodyBytes: count('a body size', 1, 8192)
      .default(8192)
      .describe(
        'Largest request body accepted, in bytes, 1 to 8192; AWS WAF inspects the first 8 KB of a body.',
      ),
    throttle: throttle.default({ rateLimit: 20, burstLimit: 40 }),
    quota: quota.default({ limit: 100_000, period: 'DAY' }),
    backendTimeoutSeconds: count('a timeout', 1, 28)
      .default(10)
      .describe(
        'Seconds the backend waits for the model, 1 to 28 (API Gateway gives up at 29); past it the API answers 504.',
      ),
    callers: z
      .array(caller)
      .default([])
      .describe(
        'One caller role per consuming application (`<namePrefix>-caller-<name>`), allowed to call `POST /invocations` of the API and nothing else.',
      ),
  })
  .describe(
    "The inference segment's private API: an API Gateway private REST API with IAM authorization, behind AWS WAF, in front of one SageMaker endpoint.",
  );

export const inferenceApiFields = {
  inferenceApi: inferenceApi.default(() => inferenceApi.parse({})),
};

type RawInferenceApi = z.output<typeof inferenceApi>;
type InferenceApiContext = {
  readonly namePrefix: string;
  readonly segments: readonly RawSegment[];
  readonly inferenceApi: RawInferenceApi;
};

/** The API's settings with its segment and endpoint resolved. */
export function resolveInferenceApi(config: InferenceApiContext) {
  const segment = segmentOfKind(config, 'inference', config.inferenceApi.segment);
  return {
    ...config.inferenceApi,
    segment,
    endpointName:
      config.inferenceApi.endpointName ?? (segment ? `${config.namePrefix}-${segment}-endpoint` : undefined),
  };
}

// Cross-field rules

export const apiSegment: CrossFieldRule<InferenceApiContext> = {
  requires: ['`inferenceApi.segment` names an inference segment, and must be given when there are several.'],
  check: (config) => namedSegment(config, 'inferenceApi', 'inference', config.inferenceApi.segment).issues,
};

export const apiSegmentHasExecuteApi: CrossFieldRule<InferenceApiContext> = {
  requires: [
    "The API's segment keeps the `execute-api` interface endpoint, through which the API is reached.",
  ],
  check: (config) => {
    const { segment } = config.inferenceApi;
    const named = namedSegment(config, 'inferenceApi', 'inference', segment).segment;
    // The API's segment, named or (the only inference segment) by default.
    const inference = config.segments.filter((s) => s.kind === 'inference');
    const api = named ?? (segment === undefined && inference.length === 1 ? inference[0] : undefined);
    return api && !(api.interfaceEndpoints ?? ['execute-api']).includes('execute-api')
      ? [
          {
            path: ['segments', config.segments.indexOf(api), 'interfaceEndpoints'],
            value: api.interfaceEndpoints,
            message:
              'the inference API is reached through the execute-api endpoint; expected a list with execute-api',
          },
        ]
      : [];
  },
};

export const burstAtLeastRate: CrossFieldRule<InferenceApiContext> = {
  requires: ['`inferenceApi.throttle.burstLimit` is at least `inferenceApi.throttle.rateLimit`.'],
  check: ({ inferenceApi: { throttle } }) =>
    throttle.burstLimit < throttle.rateLimit
      ? [
          {
            path: ['inferenceApi', 'throttle', 'burstLimit'],
            value: throttle.burstLimit,
            message: `expected at least the rateLimit (${throttle.rateLimit})`,
          },
        ]
      : [],
};

export const callerNamesOnce: CrossFieldRule<InferenceApiContext> = {
  requires: ['Each of `inferenceApi.callers` has a name of its own.'],
  check: ({ inferenceApi: { callers } }) =>
    duplicates(callers.map((c) => c.name)).map(([at, first]) => ({
      path: ['inferenceApi', 'callers', at, 'name'],
      value: callers[at].name,
      message: `duplicate application name; callers[${first}] has it already`,
    })),
};
