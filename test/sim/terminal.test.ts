import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type Sim } from '../../src/sim/index.js';
import { kit, until } from './helpers.js';

let sim: Sim;
let T: ReturnType<typeof kit>;
const P = '/api/v1/terminal';

beforeAll(async () => {
  // resultTtlMs: long enough that a result is surely still there right after its command ends.
  sim = await startSim({ resultTtlMs: 1000, idleReapMs: 60_000, abortGraceMs: 5000 }); // a loaded machine may take over 1 s to end a process on SIGINT
  T = kit(sim, 'terminal');
});
afterAll(async () => {
  await sim.close();
});

describe('execute', () => {
  it('runs a command synchronously with merged stdout/stderr, CRLF, exit code and both output fields', async () => {
    const r = await T('POST', `${P}/execute?ephemeral=true&wait=true`, { command: 'echo out; echo err >&2; exit 3' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ status: 'completed', exit_code: 3, stdout: 'out\r\nerr\r\n', output: 'out\r\nerr\r\n' });
    expect(Number(r.json.terminal_id)).toBeGreaterThanOrEqual(40000);
    expect(r.json.command_id).toMatch(/^\d+$/);
    const exe = sim.executions.find((e) => e.commandId === r.json.command_id && e.containerId === sim.containerId);
    expect(exe).toMatchObject({ command: 'echo out; echo err >&2; exit 3', cwd: '/home/user', exitCode: 3, status: 'completed' });
  });

  it('validates terminal_id and the body', async () => {
    expect((await T('POST', `${P}/execute`, { command: 'true' })).json).toEqual({ statusCode: 400, error: 'Bad Request', message: 'terminal_id parameter required' });
    expect((await T('POST', `${P}/execute?terminal_id=0`, { command: 'true' })).status).toBe(400);
    expect((await T('POST', `${P}/execute?terminal_id=70000`, { command: 'true' })).json.message).toBe('Invalid terminal_id (must be numeric 1-65535)');
    expect((await T('POST', `${P}/execute?terminal_id=abc`, { command: 'true' })).status).toBe(400);
    expect((await T('POST', `${P}/execute?ephemeral=true`, { cmd: 'true' })).json.message).toBe("Missing 'command' field");
    expect((await T('GET', `${P}/execute`)).status).toBe(405);
    // terminal_id=0 with ephemeral is the "absent" sentinel.
    expect((await T('POST', `${P}/execute?ephemeral=true&terminal_id=0`, { command: 'true' })).json.status).toBe('completed');
  });

  it('keeps shell state (cwd) in a pinned session; session params apply at creation', async () => {
    const first = await T('POST', `${P}/execute?terminal_id=11&cwd=/workspace/proj&cwd_auto_create=true&env=GREETING=hi`, { command: 'pwd; echo $GREETING; cd sub 2>/dev/null || mkdir sub && cd sub' });
    expect(first.json.stdout).toBe('/workspace/proj\r\nhi\r\n');
    const second = await T('POST', `${P}/execute?terminal_id=11`, { command: 'pwd' });
    expect(second.json.stdout).toBe('/workspace/proj/sub\r\n');
    const perCmd = await T('POST', `${P}/execute?terminal_id=11`, { command: 'pwd; echo $X', cwd: '/tmp', env: { X: 'y' } });
    expect(perCmd.json.stdout).toBe('/tmp\r\ny\r\n');
    expect((await T('POST', `${P}/execute?terminal_id=11`, { command: 'pwd' })).json.stdout).toBe('/workspace/proj/sub\r\n');
    const sessions = await T('GET', `${P}/sessions`);
    expect(sessions.json.find((s: { id: number }) => s.id === 11)).toMatchObject({ cwd: '/workspace/proj/sub' });
    expect((await T('POST', `${P}/execute?terminal_id=12&cwd=/nope`, { command: 'true' })).status).toBe(400);
    expect((await T('POST', `${P}/execute?terminal_id=12&cwd=/etc/nope&cwd_auto_create=true`, { command: 'true' })).status).toBe(403);
  });

  it('wait=false never says completed; the result is readable while running and afterwards', async () => {
    // The command holds on stdin until the test lets it finish: "running" is observed, not raced.
    const r = await T('POST', `${P}/execute?terminal_id=20&wait=false`, { command: 'echo start; read -r _; echo end' });
    expect(r.json.status).toMatch(/^(queued|running)$/);
    const id: string = r.json.command_id;
    const mid = await until(async () => {
      const x = await T('GET', `${P}/result/${id}`);
      return x.json.stdout.includes('start') ? x : undefined;
    });
    expect(mid.json).toMatchObject({ status: 'running', exit_code: null });
    await T('POST', `${P}/write?terminal_id=20`, { input: '' });
    const done = await until(async () => {
      const x = await T('GET', `${P}/result/${id}`);
      return x.json.status === 'completed' ? x : undefined;
    });
    expect(done.json).toMatchObject({ exit_code: 0, stdout: 'start\r\nend\r\n' });
    expect((await T('GET', `${P}/result/99999`)).json).toEqual({ statusCode: 404, error: 'Not Found', message: 'Command not found' });
  });

  it('queues a second command in a busy session', async () => {
    const a = await T('POST', `${P}/execute?terminal_id=21&wait=false`, { command: 'read -r _' });
    const b = await T('POST', `${P}/execute?terminal_id=21&wait=false`, { command: 'echo second' });
    expect(a.json.status).toBe('running');
    expect(b.json.status).toBe('queued');
    await T('POST', `${P}/write?terminal_id=21`, { input: '' });
    const done = await until(async () => {
      const x = await T('GET', `${P}/result/${b.json.command_id}`);
      return x.json.status === 'completed' ? x : undefined;
    });
    expect(done.json.stdout).toBe('second\r\n');
  });

  it('aborts with SIGINT, then 409 with the existing result', async () => {
    // `exec`: a Ctrl+C landing between bash's fork and sleep's exec is lost (the child still has
    // bash's handler), so the shell must not fork after printing what the test waits for.
    const r = await T('POST', `${P}/execute?terminal_id=22&wait=false`, { command: 'echo partial; exec sleep 30' });
    await until(async () => (await T('GET', `${P}/result/${r.json.command_id}`)).json.stdout.includes('partial'));
    const abort = await T('POST', `${P}/execute/${r.json.command_id}/abort`, {});
    expect(abort.json).toMatchObject({ command_id: r.json.command_id, status: 'aborted', exit_code: null, output: 'partial\r\n' });
    const again = await T('POST', `${P}/execute/${r.json.command_id}/abort`, { force: true });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ status: 'aborted' });
  });

  it('force-aborts a program that traps SIGINT', async () => {
    const r = await T('POST', `${P}/execute?terminal_id=23&wait=false`, { command: "trap '' INT; echo ready; sleep 30" });
    await until(async () => (await T('GET', `${P}/result/${r.json.command_id}`)).json.stdout.includes('ready'));
    const forced = await T('POST', `${P}/execute/${r.json.command_id}/abort`, { force: true });
    expect(forced.json.status).toBe('aborted');
  });

  it('kills a command when its timeout fires (completed, exit 124)', async () => {
    const t0 = Date.now();
    const r = await T('POST', `${P}/execute?ephemeral=true`, { command: 'echo before; sleep 20', timeout: 1 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.json).toMatchObject({ status: 'completed', exit_code: 124, stdout: 'before\r\n' });
  });

  it('forgets ephemeral results after the retention window', async () => {
    const r = await T('POST', `${P}/execute?ephemeral=true`, { command: 'echo keep' });
    expect((await T('GET', `${P}/result/${r.json.command_id}`)).status).toBe(200);
    const gone = await until(async () => {
      const x = await T('GET', `${P}/result/${r.json.command_id}`);
      return x.status === 404 ? x : undefined;
    }, 5000);
    expect(gone.status).toBe(404);
  });
});

describe('input', () => {
  it('writes a line to a program that reads stdin; 409 NO_PROCESS when idle', async () => {
    const r = await T('POST', `${P}/execute?terminal_id=30&wait=false`, { command: 'read -r name; echo "hello $name"' });
    const w = await T('POST', `${P}/write?terminal_id=30`, { input: 'world' });
    expect(w.json).toEqual({ status: 'ok', bytes_written: 6 });
    const done = await until(async () => {
      const x = await T('GET', `${P}/result/${r.json.command_id}`);
      return x.json.status === 'completed' ? x : undefined;
    });
    expect(done.json.stdout).toBe('hello world\r\n');
    const idle = await T('POST', `${P}/write?terminal_id=30`, { input: 'x' });
    expect(idle.status).toBe(409);
    expect(idle.json.message).toBe('No running process in session');
    expect((await T('POST', `${P}/write?terminal_id=31999`, { input: 'x' })).status).toBe(404);
    expect((await T('POST', `${P}/write`, { input: 'x' })).status).toBe(400);
  });

  it('presses keys (validated all-or-nothing), ctrl+c interrupts, ctrl+d ends input', async () => {
    const keys = await T('GET', `${P}/keys`);
    expect(keys.json.keys).toEqual(expect.arrayContaining(['enter', 'tab', 'escape', 'up', 'page_down', 'f12', 'ctrl+c', 'bs', 'del']));
    const cat = await T('POST', `${P}/execute?terminal_id=32&wait=false`, { command: 'cat' });
    const bad = await T('POST', `${P}/press?terminal_id=32`, { keys: ['a', 'nope'] });
    expect(bad.status).toBe(400);
    const ok = await T('POST', `${P}/press?terminal_id=32`, { keys: ['h', 'i', 'Enter'] });
    expect(ok.json).toEqual({ terminal_id: 32, keys_pressed: 3, bytes_written: 3 });
    expect((await T('POST', `${P}/press?terminal_id=32`, { key: 'a', keys: ['b'] })).status).toBe(400);
    await T('POST', `${P}/press?terminal_id=32`, { key: 'ctrl+d' });
    const done = await until(async () => {
      const x = await T('GET', `${P}/result/${cat.json.command_id}`);
      return x.json.status === 'completed' ? x : undefined;
    });
    expect(done.json).toMatchObject({ exit_code: 0, stdout: 'hi\r\n' });
    // Ctrl+C reaches a process only once it is spawned: wait until it has said so.
    const sleeper = await T('POST', `${P}/execute?terminal_id=32&wait=false`, { command: 'echo ready; exec sleep 30' });
    await until(async () => (await T('GET', `${P}/result/${sleeper.json.command_id}`)).json.stdout.includes('ready'));
    await T('POST', `${P}/press?terminal_id=32`, { keys: ['ctrl+c'] });
    const interrupted = await until(async () => {
      const x = await T('GET', `${P}/result/${sleeper.json.command_id}`);
      return x.json.status === 'completed' ? x : undefined;
    });
    expect(interrupted.json.exit_code).toBe(130);
  });
});

describe('sessions', () => {
  it('creates idempotently, lists, reads raw output, deletes', async () => {
    const c1 = await T('POST', `${P}/create`, { terminal_id: 40, cwd: '/srv' });
    expect(c1.json).toMatchObject({ status: 'ok', terminal_id: '40', shell_ready: true });
    expect((await T('POST', `${P}/create`, { terminal_id: 40 })).status).toBe(200);
    await T('POST', `${P}/execute?terminal_id=40`, { command: 'echo one; echo two; echo three' });
    const raw = await T('GET', `${P}/raw?terminal_id=40&format=text&tail=2`);
    expect(raw.text).toBe('two\r\nthree\r\n');
    expect(raw.headers['content-type']).toMatch(/text\/plain/);
    const list = await T('GET', `${P}/sessions`);
    expect(Array.isArray(list.json)).toBe(true);
    expect(list.json.find((s: { id: number }) => s.id === 40)).toMatchObject({ cwd: '/srv', command_history: ['echo one; echo two; echo three'] });
    expect((await T('DELETE', `${P}/40`)).json).toEqual({ status: 'deleted', terminal_id: 40 });
    expect((await T('DELETE', `${P}/40`)).json.message).toBe('Terminal session not found');
    expect((await T('GET', `${P}/health`)).json).toMatchObject({ status: 'ok', service: 'hoody-terminal' });
  });
});

describe('quirks', () => {
  it('switches output field, CRLF, create shape and timeout status at run time', async () => {
    sim.quirks.output = 'stdout';
    sim.quirks.crlf = false;
    let r = await T('POST', `${P}/execute?ephemeral=true`, { command: 'echo a' });
    expect(r.json.stdout).toBe('a\n');
    expect(r.json.output).toBeUndefined();
    sim.quirks.output = 'output';
    r = await T('POST', `${P}/execute?ephemeral=true`, { command: 'echo a' });
    expect(r.json.output).toBe('a\n');
    expect(r.json.stdout).toBeUndefined();
    sim.quirks.createShape = 'reference';
    expect((await T('POST', `${P}/create`, { terminal_id: 41, display: '5' })).json).toEqual({ status: 'created', terminal_id: 41, display: ':5', shell: 'bash' });
    sim.quirks.timeoutStatus = 'timeout';
    r = await T('POST', `${P}/execute?ephemeral=true`, { command: 'sleep 5', timeout: 1 });
    expect(r.json).toMatchObject({ status: 'timeout', exit_code: 124 });
    Object.assign(sim.quirks, { output: 'both', crlf: true, createShape: 'skill', timeoutStatus: 'completed' });
  });
});

describe('reaping', () => {
  it('reaps idle pinned sessions (with their results) and evicts ephemeral sessions with their program', async () => {
    // idleReapMs: long enough that both sessions are surely listed before the first reap.
    const other = await startSim({ idleReapMs: 1000, resultTtlMs: 5000 });
    try {
      const T2 = kit(other, 'terminal');
      const pinned = await T2('POST', `${P}/execute?terminal_id=7`, { command: 'echo kept' });
      const eph = await T2('POST', `${P}/execute?ephemeral=true&wait=false`, { command: 'sleep 30' });
      expect((await T2('GET', `${P}/sessions`)).json.map((s: { id: number }) => s.id).sort((a: number, b: number) => a - b)).toEqual([7, Number(eph.json.terminal_id)]);
      await until(async () => (await T2('GET', `${P}/sessions`)).json.length === 0, 3000);
      expect((await T2('GET', `${P}/result/${pinned.json.command_id}`)).status).toBe(404);
      // SIGKILL is sent at eviction; the program's exit is seen a moment later (longer under load).
      const evicted = await until(async () => {
        const r = await T2('GET', `${P}/result/${eph.json.command_id}`);
        return r.json.status === 'aborted' ? r : undefined;
      }, 3000);
      expect(evicted.json).toMatchObject({ status: 'aborted', exit_code: null });
    } finally {
      await other.close();
    }
  });
});

describe('close()', () => {
  it('kills every process it started and removes its temp data dir', async () => {
    const other = await startSim({});
    const T2 = kit(other, 'terminal');
    const r = await T2('POST', `${P}/execute?terminal_id=1&wait=false`, { command: 'echo $$; exec sleep 30' });
    const res = await until(async () => {
      const x = await T2('GET', `${P}/result/${r.json.command_id}`);
      return /^\d+/.test(x.json.stdout) ? x : undefined;
    });
    const pid = Number.parseInt(res.json.stdout, 10);
    expect(() => process.kill(pid, 0)).not.toThrow();
    const dir = other.containerPath(other.containerId, '/home/user');
    await other.close();
    expect(() => process.kill(pid, 0)).toThrow();
    const { access } = await import('node:fs/promises');
    await expect(access(dir)).rejects.toThrow();
  });
});
