import type {
  IPolicyValidationContext,
  PolicyValidationPluginReport,
  PolicyValidationPluginReportBeta1,
} from 'aws-cdk-lib';

/**
 * The messages the gate's processes exchange, as JSON: each declared once, with the channel that
 * carries it, and imported by both the side that writes it and the side that reads it. Types only
 * from aws-cdk-lib: the workers load it only where they need it.
 */
export interface Channel<T> {
  encode(message: T): string;
  decode(text: string): T;
}

function json<T>(): Channel<T> {
  return { encode: (message) => JSON.stringify(message), decode: (text) => JSON.parse(text) as T };
}

/** How a background job is run: the supervisor's one argument. */
export interface SupervisorRequest {
  /** The job's directory: the supervisor writes `stdout`, `stderr` and, last, `status` into it. */
  readonly dir: string;
  /** Node's own flags for the script. */
  readonly flags: readonly string[];
  /** The JavaScript file to run; it gets `dir` and then `args` as its arguments. */
  readonly script: string;
  readonly args: readonly string[];
}
export const SUPERVISOR_REQUEST = json<SupervisorRequest>();

/** A template for cfn-guard to check, with the rule files that apply to it. */
export interface GuardJob {
  readonly rules: readonly string[];
  readonly templatePath: string;
  /** The template's size in bytes, to deal the jobs out evenly. */
  readonly size: number;
}

/** The guard coordinator's argument (after the job's directory). */
export interface GuardCoordinatorRequest {
  /** The guard worker, as a JavaScript file to run. */
  readonly worker: string;
  /** Largest first. */
  readonly jobs: readonly GuardJob[];
  /** At most this many worker processes. */
  readonly workers: number;
}
export const GUARD_COORDINATOR_REQUEST = json<GuardCoordinatorRequest>();
/** What the coordinator prints: the report of each job, in the order of the request's jobs. */
export const GUARD_REPORTS = json<PolicyValidationPluginReportBeta1[]>();

/** A guard worker's argument: its share of the jobs, each with its place in the request. */
export type GuardWorkerRequest = readonly (Omit<GuardJob, 'size'> & { readonly index: number })[];
export const GUARD_WORKER_REQUEST = json<GuardWorkerRequest>();
/** What a guard worker prints: the report of each of its jobs, by the job's place. */
export const GUARD_WORKER_REPORTS =
  json<{ readonly index: number; readonly report: PolicyValidationPluginReportBeta1 }[]>();

/** The CloudFormation validator's argument (after the job's directory). */
export interface CloudFormationValidateStart {
  /** The synth's process: the validator stops waiting for templates when it ends. */
  readonly appPid: number;
  /** The app's resource types, sorted: the engine is built for them before the templates exist. */
  readonly resourceTypes: readonly string[];
}
export const CLOUDFORMATION_VALIDATE_START = json<CloudFormationValidateStart>();

/** The file of the job's directory that hands the validator the templates, once they exist. */
export const CLOUDFORMATION_VALIDATE_REQUEST_FILE = 'request.json';
export type CloudFormationValidateRequest = Pick<
  IPolicyValidationContext,
  'templatePaths' | 'stackTemplates'
>;
export const CLOUDFORMATION_VALIDATE_REQUEST = json<CloudFormationValidateRequest>();
/** What the validator prints. */
export const CLOUDFORMATION_VALIDATE_REPORT = json<PolicyValidationPluginReport>();
