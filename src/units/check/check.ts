// The precheck (DM's check-task, run before a task starts): reads the facts off the upstream and
// the target, then judges every item. The result is DM's shape: per-item state and a summary.
import type { PacketConnection } from '../../mysql/protocol.js';
import {
  downstreamRole,
  openConnection,
  quoteTable,
  serverIdentity,
  upstreamRole,
} from '../../mysql/connect.js';
import { blockAllowOf, onlineTablesOf, replicatedOf } from '../tables.js';
import { routerOf } from '../../rules/route.js';
import type { SubTaskConfig } from '../../task/config.js';
import { globalPrivileges, judge, type CheckItem, type Facts } from './items.js';

export interface CheckResult {
  passed: boolean;
  summary: { passed: boolean; total: number; successful: number; failed: number; warning: number };
  results: CheckItem[];
}

async function grants(c: PacketConnection): Promise<Set<string> | undefined> {
  try {
    const rows = await c.query('SHOW GRANTS');
    return globalPrivileges(rows.map((r) => String(Object.values(r)[0] ?? '')));
  } catch {
    return undefined;
  }
}

/** Reads what the checks need from the upstream and the target of one subtask. */
export async function gatherFacts(cfg: SubTaskConfig): Promise<Facts> {
  const up = await openConnection(cfg.source.from, upstreamRole());
  try {
    const [v] = await up.query(
      'SELECT VERSION() v, @@server_id sid, @@log_bin lb, @@binlog_format bf, @@binlog_row_image bri',
    );
    const filter = replicatedOf(cfg);
    const all = await up.query(
      "SELECT TABLE_SCHEMA s, TABLE_NAME t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'",
    );
    const tables = all.filter((r) => filter.table(r.s!, r.t!));
    const online = onlineTablesOf(cfg);
    const bal = blockAllowOf(cfg);
    const onlineInFlight: [string, string][] = online
      ? all
          .filter((r) => online.kind(r.t!) === 'shadow' && bal.table(r.s!, online.realName(r.t!)))
          .map((r) => [quoteTable(r.s!, online.realName(r.t!)), quoteTable(r.s!, r.t!)])
      : [];
    const keyed = new Set(
      (
        await up.query(
          'SELECT DISTINCT TABLE_SCHEMA s, TABLE_NAME t FROM information_schema.STATISTICS WHERE NON_UNIQUE = 0',
        )
      ).map((r) => `${r.s}\0${r.t}`),
    );
    const target = await openConnection(cfg.targetDatabase, downstreamRole());
    let targetPrivileges: Set<string> | undefined;
    let sameServer: boolean;
    try {
      targetPrivileges = await grants(target);
      sameServer = (await serverIdentity(target)) === (await serverIdentity(up));
    } finally {
      target.close();
    }
    const router = routerOf(cfg.instance.routeRules, cfg.routes, cfg.caseSensitive, cfg.instance.sourceId);
    const selfFed = sameServer
      ? tables
          .filter((r) => {
            const to = router.route(r.s!, r.t!);
            return filter.table(to.db, to.table);
          })
          .map((r) => `\`${r.s}\`.\`${r.t}\``)
      : [];
    return {
      sourceId: cfg.instance.sourceId,
      needsBinlog: ['all', 'incremental', 'load&sync'].includes(cfg.taskMode),
      version: v.v ?? '',
      serverId: Number(v.sid),
      logBin: v.lb === '1' || v.lb?.toUpperCase() === 'ON',
      binlogFormat: v.bf ?? '',
      binlogRowImage: v.bri ?? '',
      upstreamPrivileges: await grants(up),
      onlineInFlight,
      keylessTables: tables.filter((r) => !keyed.has(`${r.s}\0${r.t}`)).map((r) => `\`${r.s}\`.\`${r.t}\``),
      targetPrivileges,
      sameServer,
      selfFed,
    };
  } finally {
    up.close();
  }
}

export function summarize(results: CheckItem[]): CheckResult {
  const failed = results.filter((r) => r.state === 'fail').length;
  const warning = results.filter((r) => r.state === 'warn').length;
  const passed = failed === 0;
  return {
    passed,
    summary: {
      passed,
      total: results.length,
      successful: results.length - failed - warning,
      failed,
      warning,
    },
    results,
  };
}

/** Checks one subtask's source and target. */
export async function precheck(cfg: SubTaskConfig): Promise<CheckResult> {
  return summarize(judge(await gatherFacts(cfg), cfg.ignoreCheckingItems));
}

export interface TaskCheck {
  result: boolean;
  msg: string;
  checkResult: Array<{ source: string } & CheckResult>;
}

/** DM's check-task: every subtask's precheck, and one line naming each failed item. */
export async function checkTask(cfgs: SubTaskConfig[]): Promise<TaskCheck> {
  const checks = await Promise.all(
    cfgs.map(async (cfg) => ({ source: cfg.instance.sourceId, ...(await precheck(cfg)) })),
  );
  const failed = checks.flatMap((c) =>
    c.results
      .filter((r) => r.state === 'fail')
      .map((r) => `${c.source}: ${r.name} (${r.errors.map((e) => e.short_error).join('; ')})`),
  );
  return {
    result: failed.length === 0,
    msg: failed.length ? `precheck failed: ${failed.join(', ')}` : 'pre-check is passed. ',
    checkResult: checks,
  };
}
