// CPU time of the processes that share the machine (the hub, HAPI), per phase, from /proc: so the
// report says how much of the machine HAPI took while the hub was measured against it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Linux's clock ticks per second for /proc/<pid>/stat (USER_HZ; 100 on every common kernel). */
const TICKS = 100;

/** User plus system CPU seconds of a process so far, or undefined when it cannot be read. */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/**
 * The process serving the FHIR server at `baseUrl` when it runs on this machine: the one listening
 * on its port (`ss`), not any HAPI found by name, since a shared one may run beside the bench's own.
 */
export function hapiPid(baseUrl) {
  const url = new URL(baseUrl);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
    return undefined;
  }
  try {
    const listening = execFileSync('ss', ['-ltnpH', `sport = :${url.port || 80}`], { encoding: 'utf8' });
    return Number(/pid=(\d+)/.exec(listening)?.[1]) || undefined;
  } catch {
    return undefined;
  }
}

/** Starts measuring `processes` ({name: pid}); the returned function stops and reports each one's share. */
export function cpuShare(processes) {
  const started = Date.now();
  const before = Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, cpuSeconds(pid)]));
  return () => {
    const wallS = (Date.now() - started) / 1000;
    const cores = os.cpus().length;
    return Object.fromEntries(
      Object.entries(processes).flatMap(([name, pid]) => {
        const now = cpuSeconds(pid);
        const was = before[name];
        return now === undefined || was === undefined
          ? []
          : [[name, { cpuS: now - was, machineShare: (now - was) / (wallS * cores) }]];
      }),
    );
  };
}
