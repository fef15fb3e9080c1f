/**
 * `source`, reporting how long each wait for its next item took (the time a consumer is held up by
 * its data rather than computing). Leaving the loop early closes `source`, as for-await would.
 */
export async function* timedSource<T>(source: AsyncIterable<T>, onWait: (ms: number) => void): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      const t0 = performance.now();
      const next = await it.next();
      onWait(performance.now() - t0);
      if (next.done) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!finished) await it.return?.();
  }
}
