// Small promise helpers.

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs the functions given to it one after another (e.g. the uses of one connection). */
export function serialize(): <T>(f: () => Promise<T>) => Promise<T> {
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(f: () => Promise<T>) => {
    const p = chain.then(f, f);
    chain = p.catch(() => undefined);
    return p;
  };
}

/** Every promise's value once all have settled (none left running behind a failure); the first
 * failure, if any. */
export async function settleAll<T>(ps: Promise<T>[]): Promise<T[]> {
  const r = await Promise.allSettled(ps);
  const failed = r.find((x) => x.status === 'rejected');
  if (failed) throw failed.reason;
  return r.map((x) => (x as PromiseFulfilledResult<T>).value);
}
