// The Chromium the browser tests drive: CHROMIUM_PATH when set, otherwise the headless build that
// ships inside the @sparticuz/chromium npm package (a dev dependency), unpacked into the temporary
// folder on first use. `npm ci` is then all a machine needs for the browser tests (README, Tests).
// Its binary links only libc, libexpat and NSS, which Java 17 (a listed prerequisite) brings.
// The package is pinned to 143, the last release that supports Node 20.

/** The path of the Chromium to launch. */
export async function chromiumPath() {
  if (process.env.CHROMIUM_PATH) {
    return process.env.CHROMIUM_PATH;
  }
  const { default: chromium } = await import('@sparticuz/chromium');
  return chromium.executablePath();
}
