import { BackgroundJob } from '../../lib/gate/background';

describe('a background job of the gate', () => {
  test('returns what its script printed', () => {
    const job = new BackgroundJob('echo', 'process.stdout.write(process.argv.slice(2).join(" "))', [
      'a',
      'b',
    ]);
    expect(job.collect()).toBe('a b');
  });

  test('many jobs at once all end with their status read whole, never half-written', () => {
    // The status file used to be written in place: a synth polling for it could read it empty
    // ("failed (exit )") while the job had succeeded. A dozen at once make that window likely.
    const jobs = Array.from(
      { length: 12 },
      (_, i) => new BackgroundJob(`job ${i}`, 'process.stdout.write(process.argv[2])', [String(i)]),
    );
    expect(jobs.map((job) => job.collect())).toEqual(jobs.map((_, i) => String(i)));
  });

  test('a script that fails is reported with its exit code and what it wrote to stderr', () => {
    const job = new BackgroundJob('failing', 'console.error("broken rule file"); process.exit(3)', []);
    expect(() => job.collect()).toThrow(/^failing failed \(exit 3\): broken rule file/);
  });

  test('a script killed by a signal is reported with the signal, not an empty exit code', () => {
    const job = new BackgroundJob('killed', 'process.kill(process.pid, "SIGKILL")', []);
    expect(() => job.collect()).toThrow(/^killed failed \(exit signal SIGKILL\)/);
  });

  test('runs with the node flags it is given (the CloudFormation validation: --liftoff-only)', () => {
    const job = new BackgroundJob(
      'flags',
      'process.stdout.write(JSON.stringify(process.execArgv))',
      [],
      ['--liftoff-only'],
    );
    expect((JSON.parse(job.collect()) as string[])[0]).toBe('--liftoff-only');
  });

  test('a job is collected once', () => {
    const job = new BackgroundJob('once', '', []);
    job.collect();
    expect(() => job.collect()).toThrow('once: already collected');
  });
});
