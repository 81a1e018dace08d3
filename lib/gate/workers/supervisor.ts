import { spawnSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUPERVISOR_REQUEST } from './messages';

/**
 * A background job's supervisor: runs the job's script (node, with the flags given, the job's
 * directory and the script's arguments) and records how it ended: its output, its errors and its
 * exit status (or the signal that ended it), each in a file of the directory, the status last and
 * atomically. A process of its own, so that the status is written whatever becomes of the script.
 */
const { dir, flags, script, args } = SUPERVISOR_REQUEST.decode(process.argv[2]);
const run = spawnSync(process.execPath, [...flags, script, dir, ...args], { maxBuffer: 512 * 1024 * 1024 });
writeFileSync(join(dir, 'stdout'), run.stdout ?? '');
writeFileSync(join(dir, 'stderr'), String(run.stderr ?? '') + (run.error ? String(run.error) : ''));
// Written whole, then renamed: the waiting synth must never read a status file still empty.
writeFileSync(join(dir, 'status.partial'), run.status === null ? `signal ${run.signal}` : String(run.status));
renameSync(join(dir, 'status.partial'), join(dir, 'status'));
