import { execFile } from 'node:child_process';
import type { PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';
import {
  GUARD_COORDINATOR_REQUEST,
  GUARD_REPORTS,
  GUARD_WORKER_REPORTS,
  GUARD_WORKER_REQUEST,
  type GuardWorkerRequest,
} from './messages';

/**
 * Deals the guard jobs (largest first) to one worker process per CPU, each taking the next to the
 * lightest load, and prints the reports in job order once every worker is done. Its arguments:
 * the job's directory, then the request.
 */
const { worker, jobs, workers } = GUARD_COORDINATOR_REQUEST.decode(process.argv[3]);
const loads = Array.from({ length: Math.max(1, Math.min(workers, jobs.length)) }, () => ({
  size: 0,
  jobs: [] as GuardWorkerRequest[number][],
}));
jobs.forEach(({ rules, templatePath, size }, index) => {
  const lightest = loads.reduce((a, b) => (b.size < a.size ? b : a));
  lightest.size += size;
  lightest.jobs.push({ index, rules, templatePath });
});
const reports = new Array<PolicyValidationPluginReportBeta1>(jobs.length);
let pending = loads.length;
for (const load of loads) {
  execFile(
    process.execPath,
    [worker, GUARD_WORKER_REQUEST.encode(load.jobs)],
    { maxBuffer: 256 * 1024 * 1024 },
    (err, stdout, stderr) => {
      if (err) {
        process.stderr.write(
          `${load.jobs.map((j) => j.templatePath).join(', ')}: ${stderr}${err.name}: ${err.message}`,
        );
        process.exit(1);
      }
      for (const { index, report } of GUARD_WORKER_REPORTS.decode(stdout)) reports[index] = report;
      if (--pending === 0) process.stdout.write(GUARD_REPORTS.encode(reports));
    },
  );
}
