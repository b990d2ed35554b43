// The dashboard in a real headless Chromium (Debian's, driven by puppeteer-core) against a real
// dm-master, dm-worker and MariaDB servers: a task started from a task file on the page runs and
// shows its lag, pausing from the page pauses it (dmctl says so), an error shows with its
// workaround and "Skip event" gets the task going again; a screenshot is saved as an artifact
// (DM_TEST_ARTIFACTS, default <tmp>/dm-ts-artifacts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Page } from 'puppeteer-core';
import { server } from '../harness/index.js';
import { daemon, dmctl, startMaster } from '../harness/cluster.js';
import { sourceYaml } from '../harness/task.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const ARTIFACTS = process.env.DM_TEST_ARTIFACTS ?? join(tmpdir(), 'dm-ts-artifacts');

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const text = (page: Page, sel: string) => page.$eval(sel, (e) => e.textContent ?? '').catch(() => '');

test(
  'dashboard in Chromium: start from a file, lag, pause from the page, an error with its workaround, skip',
  { skip: CHROMIUM ? false : "Chromium is not installed (scripts/setup.sh installs Debian's chromium)" },
  async () => {
    const [up, down] = await Promise.all([server(), server()]);
    await up.exec(
      'CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, v INT); INSERT INTO shop.orders SELECT seq, seq FROM mysql.seq_1_to_1000;',
    );
    const dir = await mkdtemp(join(tmpdir(), 'dm-ts-dash-'));
    const master = await startMaster(dir);
    await daemon(
      'dm-worker',
      [
        '--name',
        'w1',
        '--worker-addr',
        '127.0.0.1:0',
        '--join',
        master.addr,
        '--log-file',
        join(dir, 'w.log'),
      ],
      dir,
    );
    await writeFile(join(dir, 'source.yaml'), sourceYaml('mysql-01', up));
    assert.equal((await dmctl(master.addr, 'operate-source', 'create', join(dir, 'source.yaml'))).code, 0);
    const t = down.connectionOptions();
    const taskFile = join(dir, 'shop.yaml');
    await writeFile(
      taskFile,
      `name: shop\ntask-mode: all\ntarget-database: {host: "${t.host}", port: ${t.port}, user: "${t.user}", password: ""}\nmysql-instances:\n  - source-id: mysql-01\n    block-allow-list: bal\n    loader: {dir: "${join(dir, 'dump')}"}\nblock-allow-list:\n  bal: {do-dbs: [shop]}\n`,
    );

    const browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1366, height: 900 }); // a laptop screen
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('dialog', (d) => void d.accept());
      await page.goto(`http://${master.addr}/dashboard/`);
      await page.waitForSelector('[data-testid="source-mysql-01"]');

      // start the task from its file on the page
      const input = await page.waitForSelector('[data-testid="task-file"]');
      await (input as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(taskFile);
      await until('the task running in Sync, synced', async () =>
        /synced/.test(await text(page, '[data-testid="task-shop"] [data-testid="lag"]')),
      );
      assert.match(await text(page, '[data-testid="task-shop"] [data-testid="stage"]'), /Running/);
      assert.match(await text(page, '[data-testid="task-shop"] [data-testid="lag"]'), /^\d+ s \(synced\)$/);
      await page.waitForSelector('[data-testid="lag-chart"] canvas');
      assert.equal((await dmctl(master.addr, 'query-status', 'shop')).json.result, true);

      // pause from the page: dmctl sees it
      const click = async (task: string, label: string) => {
        const buttons = await page.$$(`[data-testid="task-${task}"] button`);
        for (const b of buttons) if ((await b.evaluate((e) => e.textContent)) === label) return b.click();
        throw new Error(`no ${label} button`);
      };
      await click('shop', 'Pause');
      await until('dmctl to show Paused', async () => {
        const q = await dmctl(master.addr, 'query-status', 'shop');
        return (
          (q.json as { workers: { subTaskStatus: { stage: string }[] }[] }).workers[0].subTaskStatus[0]
            .stage === 'Paused'
        );
      });
      await until('the page to show Paused', async () =>
        /Paused/.test(await text(page, '[data-testid="task-shop"] [data-testid="stage"]')),
      );
      await click('shop', 'Resume');
      await until('the page to show Running', async () =>
        /Running/.test(await text(page, '[data-testid="task-shop"] [data-testid="stage"]')),
      );

      // an error: the target table is gone, the next change cannot be applied
      await down.exec('DROP TABLE shop.orders');
      await up.exec('INSERT INTO shop.orders VALUES (5000, 1)');
      await page.waitForSelector('[data-testid="task-shop"] [data-testid="workaround"]', { timeout: 60_000 });
      assert.match(await text(page, '[data-testid="task-shop"] [data-testid="error"]'), /does not exist/);
      assert.match(
        await text(page, '[data-testid="task-shop"] [data-testid="workaround"]'),
        /^Workaround: \S/,
      );
      await mkdir(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'dashboard.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`# dashboard screenshot: ${shot}`);

      // skip the failing event from the page: the task runs again
      const skip = await page.$$('[data-testid="task-shop"] [data-testid="error"] button');
      await skip[0].click();
      await until('the task running again', async () => {
        const notice = await text(page, '[data-testid="notice"]');
        if (!/skip/.test(notice)) return false;
        if (!/binlog skip on mysql-01: done/.test(notice)) throw new Error(notice);
        const q = await dmctl(master.addr, 'query-status', 'shop');
        return (
          (q.json as { workers: { subTaskStatus: { stage: string }[] }[] }).workers[0].subTaskStatus[0]
            .stage === 'Running'
        );
      });
      await down.exec('CREATE TABLE shop.orders (id INT PRIMARY KEY, v INT)');
      await up.exec('INSERT INTO shop.orders VALUES (5001, 2)');
      await until(
        'the next row on the target',
        async () =>
          ((await down.exec('SELECT COUNT(*) n FROM shop.orders WHERE id = 5001')) as { n: string }[])[0]
            .n === '1',
      );
      assert.match(await text(page, '[data-testid="notice"]'), /binlog skip on mysql-01: done/);
      assert.deepEqual(problems, [], 'no script error on the page');
    } finally {
      await browser.close();
    }
  },
);
