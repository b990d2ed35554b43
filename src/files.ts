// Files the project keeps state in are replaced whole: written to a temporary file, synced, then
// renamed over the old one, so a crash leaves the old version or the new one, never a mix.
import { open, rename } from 'node:fs/promises';

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = path + '.tmp';
  const f = await open(tmp, 'w');
  try {
    await f.writeFile(text);
    await f.sync();
  } finally {
    await f.close();
  }
  await rename(tmp, path);
}
