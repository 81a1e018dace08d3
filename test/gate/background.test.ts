import { join } from 'node:path';
import { BackgroundJob } from '../../lib/gate/background';
import { workerScript } from '../../lib/gate/worker-script';

/** A job script that does what its first argument says (test/fixtures/gate-workers/job.ts). */
const JOB = workerScript(join(__dirname, '..', 'fixtures', 'gate-workers', 'job'));

describe('a background job of the gate', () => {
  test('returns what its script printed', () => {
    const job = new BackgroundJob('echo', JOB, ['echo', 'a', 'b']);
    expect(job.collect()).toBe('a b');
  });

  test('many jobs at once all end with their status read whole, never half-written', () => {
    // The status file used to be written in place: a synth polling for it could read it empty
    // ("failed (exit )") while the job had succeeded. A dozen at once make that window likely.
    const jobs = Array.from(
      { length: 12 },
      (_, i) => new BackgroundJob(`job ${i}`, JOB, ['echo', String(i)]),
    );
    expect(jobs.map((job) => job.collect())).toEqual(jobs.map((_, i) => String(i)));
  });

  test('a script that fails is reported with its exit code and what it wrote to stderr', () => {
    const job = new BackgroundJob('failing', JOB, ['fail', 'broken rule file']);
    expect(() => job.collect()).toThrow(/^failing failed \(exit 3\): broken rule file/);
  });

  test('a script killed by a signal is reported with the signal, not an empty exit code', () => {
    const job = new BackgroundJob('killed', JOB, ['kill']);
    expect(() => job.collect()).toThrow(/^killed failed \(exit signal SIGKILL\)/);
  });

  test('runs with the node flags it is given (the CloudFormation validation: --liftoff-only)', () => {
    const job = new BackgroundJob('flags', JOB, ['flags'], ['--liftoff-only']);
    expect(JSON.parse(job.collect()) as string[]).toEqual(['--liftoff-only']);
  });

  test('a job is collected once', () => {
    const job = new BackgroundJob('once', JOB, ['nothing']);
    job.collect();
    expect(() => job.collect()).toThrow('once: already collected');
  });
});
