/** Where a progress line is drawn: a terminal's stderr, so stdout (reports, JSON) stays clean. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** A progress line that is redrawn in place; `done()` ends it with a newline. */
export interface Progress {
  tick(count?: number): void;
  done(): void;
}

const WIDTH = 30;

/**
 * `label [#########.........] 30% 300/1000 4s`, redrawn at most ten times a second, on a terminal
 * only: piped or redirected output gets nothing, so logs and scripts see no control characters.
 */
export function progressBar(
  label: string,
  total: number,
  stream: ProgressStream = process.stderr,
  now: () => number = Date.now,
): Progress {
  if (!stream.isTTY || total <= 0) {
    return { tick: () => undefined, done: () => undefined };
  }
  const started = now();
  let count = 0;
  let drawnAt = -Infinity;
  const draw = (): void => {
    const share = Math.min(1, count / total);
    const filled = Math.round(share * WIDTH);
    const seconds = Math.round((now() - started) / 1000);
    stream.write(
      `\r${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${Math.round(share * 100)}% ${count}/${total} ${seconds}s`,
    );
    drawnAt = now();
  };
  return {
    tick(n = 1) {
      count += n;
      if (now() - drawnAt >= 100 || count >= total) {
        draw();
      }
    },
    done() {
      draw();
      stream.write('\n');
    },
  };
}
