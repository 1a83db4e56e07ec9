// Adds lock entries for platform-specific optional packages that npm left out of
// package-lock.json. The registry this project is built against serves only the packages for
// the platforms it runs on (linux x64/arm64), so `npm install` cannot resolve the others and
// omits them, and `npm ci` then refuses the lock file as out of sync. An entry that names the
// package's os/cpu lets `npm ci` see it, know it does not apply here, and skip it without a
// download. Run after `npm install` changes the lock file: `node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const packages = lock.packages;

/** os, cpu and libc implied by a platform package's name (e.g. `...-linux-arm-musleabihf`). */
function platformOf(name) {
  const tail = name.split('/').pop();
  const os = ['darwin', 'win32', 'linux', 'android', 'freebsd', 'openharmony'].find((o) =>
    tail.includes(`-${o}-`),
  );
  const cpu = ['arm64', 'x64', 'ia32', 'arm', 'loong64', 'ppc64', 's390x', 'riscv64'].find((c) =>
    new RegExp(`-${c}(-|$)`).test(tail),
  );
  const libc = /-musl/.test(tail) ? 'musl' : /-gnu/.test(tail) ? 'glibc' : undefined;
  return os && cpu ? { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) } : undefined;
}

let added = 0;
for (const [path, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${path ? `${path}/` : ''}node_modules/${name}`;
    if (packages[`node_modules/${name}`] || packages[nested]) {
      continue;
    }
    const platform = platformOf(name);
    if (!platform) {
      continue;
    }
    packages[`node_modules/${name}`] = { version, optional: true, ...platform };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform entries`);
