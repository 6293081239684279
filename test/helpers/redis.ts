/**
 * A real redis-server (Debian's) on a free loopback port, for the tests of the shared store:
 * no persistence, gone when stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

export interface RedisServer {
  url: string;
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `port`: start on this one (a restart of a server the test stopped). */
export async function startRedis(onPort?: number): Promise<RedisServer> {
  const port = onPort ?? (await freePort());
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    proc.once('error', (e) => (clearTimeout(timer), reject(new Error(`redis-server cannot run (apt-get install redis-server): ${e.message}`))));
    proc.once('exit', (code) => (clearTimeout(timer), reject(new Error(`redis-server exited ${code}: ${out}`))));
    // --loglevel warning prints nothing on a good start: poll the port instead.
    const tryPing = () => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.end(), clearTimeout(timer), resolve()));
      s.once('error', () => setTimeout(tryPing, 50));
    };
    proc.stdout!.on('data', (d) => (out += d));
    proc.stderr!.on('data', (d) => (out += d));
    tryPing();
  });
  proc.removeAllListeners('exit');
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      }),
  };
}
