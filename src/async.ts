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
