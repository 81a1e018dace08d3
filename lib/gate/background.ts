import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUPERVISOR_REQUEST } from './workers/messages';
import { workerScript } from './worker-script';

/**
 * The supervisor of every job (workers/supervisor.ts), a process of its own: it runs the job's
 * script and records how it ended, so that the status is written whatever becomes of the script.
 */
const SUPERVISOR = join(__dirname, 'workers', 'supervisor');

/** Longest a background job may take before the synth gives up on it. */
const TIMEOUT_MS = 15 * 60 * 1000;

/** Blocks this thread for a while: what is being waited for happens in another process. */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A validation running in other processes while the synth goes on. Validation plugins are called
 * one after another and synchronously; a plugin whose work runs here can start early and be
 * collected at its turn, so the checks share the machine's cores instead of taking turns.
 */
export class BackgroundJob {
  private readonly dir = mkdtempSync(join(tmpdir(), 'aiseg-gate-'));
  private collected = false;

  /**
   * `script` is a JavaScript file (a worker's, see `workerScript`); it gets the job's directory and
   * then `args` as its arguments, and runs with the node `flags` given.
   */
  constructor(
    readonly what: string,
    script: string,
    args: readonly string[],
    flags: readonly string[] = [],
  ) {
    const request = SUPERVISOR_REQUEST.encode({ dir: this.dir, flags, script, args });
    spawn(process.execPath, [workerScript(SUPERVISOR), request], { stdio: 'ignore' }).unref();
  }

  /** Hands the job a file it waits for (written whole, then renamed into place). */
  send(name: string, content: string): void {
    const path = join(this.dir, name);
    writeFileSync(`${path}.partial`, content);
    renameSync(`${path}.partial`, path);
  }

  /** Blocks until the job ends; returns what it printed, or throws what went wrong. */
  collect(): string {
    if (this.collected) throw new Error(`${this.what}: already collected`);
    this.collected = true;
    try {
      const deadline = Date.now() + TIMEOUT_MS;
      while (!existsSync(join(this.dir, 'status'))) {
        if (Date.now() > deadline) throw new Error(`${this.what} did not finish in ${TIMEOUT_MS / 1000} s`);
        sleep(10);
      }
      const status = readFileSync(join(this.dir, 'status'), 'utf8');
      if (status !== '0') {
        throw new Error(
          `${this.what} failed (exit ${status}): ${readFileSync(join(this.dir, 'stderr'), 'utf8')}`,
        );
      }
      return readFileSync(join(this.dir, 'stdout'), 'utf8');
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
