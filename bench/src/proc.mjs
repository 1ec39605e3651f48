// Child processes of a bench run, and what /proc says about them.
// Every process started here is registered, so one call (also on error, SIGINT or exit)
// kills all of them: a bench run never leaves a server behind.
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { availableParallelism } from 'node:os';

const CLK_TCK = 100; // Linux USER_HZ; `getconf CLK_TCK` is 100 on every kernel we run on.
const running = new Set();

/** Starts a long-running server; its output is kept (last 8 KiB) for error messages. */
export function startProcess(name, command, args, options = {}) {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = null;
  const gone = new Promise((resolve) => child.once('close', resolve));
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  child.on('error', (err) => {
    exited = { code: -1, signal: null };
    output += `\nspawn failed: ${err.message}`;
  });
  return track({
    name,
    pid: child.pid,
    get exited() {
      return exited;
    },
    get output() {
      return output;
    },
    kill: (signal) => child.kill(signal),
    gone,
  });
}

/**
 * One of our servers, started by @mdns/testkit's AppProcess (ours.mjs), registered like
 * every other process here so that stopAll / killAllNow reach it too.
 */
export function adoptApp(app) {
  return track({
    name: app.name,
    pid: app.pid,
    get exited() {
      return app.exit;
    },
    get output() {
      const logs = app.logs.slice(-40).map((l) => JSON.stringify(l));
      return `${logs.join('\n')}\n${app.stderr.join('')}`.slice(-8192);
    },
    kill: (signal) => app.signal(signal),
    gone: app.closed,
  });
}

/** `{ name, pid, exited, output, kill(signal), gone }`: in `running` until it has exited. */
function track(proc) {
  running.add(proc);
  proc.gone.then(() => running.delete(proc));
  return proc;
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
export async function stopProcess(proc, graceMs = 2000) {
  if (!proc || proc.exited) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await proc.gone;
  clearTimeout(timer);
}

export async function stopAll() {
  await Promise.all([...running].map((p) => stopProcess(p)));
}

/** Last resort when the runner itself dies: no await possible, so SIGKILL. */
export function killAllNow() {
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** CPU seconds (all threads, user + system) and memory of a live process, from /proc. */
export function procStats(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    cpuSeconds: (utime + stime) / CLK_TCK,
    rssBytes: statusKb(status, 'VmRSS') * 1024,
    hwmBytes: statusKb(status, 'VmHWM') * 1024,
  };
}

/** Sum over a process and its direct children (a cluster primary and its workers). */
export function procTreeStats(pid) {
  const total = procStats(pid);
  for (const child of childPids(pid)) {
    const s = procStats(child);
    total.cpuSeconds += s.cpuSeconds;
    total.rssBytes += s.rssBytes;
    total.hwmBytes += s.hwmBytes;
  }
  return total;
}

function childPids(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text ? text.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

function statusKb(status, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

/**
 * Pins a server (every thread of it and of its direct children: a cluster primary and its
 * workers) to `cpus` (a taskset list such as "1"), and returns the call that gives it every
 * CPU back. Used for latency runs where the load generator must not share the server's core
 * (on 2 cores the scheduler otherwise makes either wait a tick: Knot's p99 was 1.6–2.3 ms).
 * `children: false` pins only `pid` (the harness itself, whose children are the servers).
 */
export function pinTree(pid, cpus, { children = true } = {}) {
  const all = `0-${cpuCount() - 1}`;
  const set = (list) => {
    for (const p of children ? [pid, ...childPids(pid)] : [pid]) {
      const r = spawnSync('taskset', ['-a', '-p', '-c', list, String(p)], { encoding: 'utf8' });
      if (r.status !== 0)
        throw new Error(`taskset -a -p -c ${list} ${p} failed: ${r.stderr || r.error?.message}`);
    }
  };
  set(cpus);
  return () => set(all);
}

export const cpuCount = () => availableParallelism();

/** A port free for both UDP and TCP on 127.0.0.1 (DNS servers bind both). */
export async function freePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if ((await udpFree(port)) && (await tcpFree(port))) return port;
  }
  throw new Error('no free UDP+TCP port found on 127.0.0.1 after 50 attempts');
}

function udpFree(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function tcpFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor(what, check, { timeoutMs = 30_000, everyMs = 50, proc } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc?.exited) {
      throw new Error(
        `${proc.name} exited (${JSON.stringify(proc.exited)}) while waiting for ${what}:\n${proc.output}`,
      );
    }
    const value = await check();
    if (value) return value;
    await sleep(everyMs);
  }
  const tail = proc ? `\n${proc.name} output:\n${proc.output}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail}`);
}
