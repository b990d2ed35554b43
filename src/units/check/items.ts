// The precheck's items (DM's names, for `ignore-checking-items`), judged from facts read off the
// servers. Pure: facts in, results out.

export type CheckState = 'success' | 'warn' | 'fail';

export interface CheckItem {
  id: number;
  name: string;
  desc: string;
  state: CheckState;
  errors: { severity: 'warn' | 'fail'; short_error: string }[];
  instruction: string;
  extra: string;
}

export interface Facts {
  sourceId: string;
  needsBinlog: boolean;
  version: string;
  serverId: number;
  logBin: boolean;
  binlogFormat: string;
  binlogRowImage: string;
  /** Global privileges of the upstream user (upper case), or undefined when unreadable. */
  upstreamPrivileges?: Set<string>;
  /** online-ddl: shadow tables on the upstream whose real table is selected (an online schema
   * change in flight), as [real, shadow]. */
  onlineInFlight: [string, string][];
  /** Selected tables without a primary or unique key. */
  keylessTables: string[];
  /** Global privileges of the target user, or undefined when unreadable. */
  targetPrivileges?: Set<string>;
  /** The target is the upstream server itself. */
  sameServer: boolean;
  /** Selected tables whose target table (after routes) is itself a selected upstream table: with
   * the target being the upstream, every change applied would be read back and applied again. */
  selfFed: string[];
}

function item(
  name: string,
  desc: string,
  problems: { severity: 'warn' | 'fail'; short_error: string }[],
  instruction: string,
  extra: string,
): Omit<CheckItem, 'id'> {
  const state: CheckState = problems.some((p) => p.severity === 'fail')
    ? 'fail'
    : problems.length
      ? 'warn'
      : 'success';
  return { name, desc, state, errors: problems, instruction: state === 'success' ? '' : instruction, extra };
}

function has(privs: Set<string> | undefined, ...wanted: string[]): boolean {
  if (!privs) return true; // unknown: do not fail on it
  if (privs.has('ALL PRIVILEGES') || privs.has('ALL')) return true;
  return wanted.some((w) => privs.has(w));
}

/** Parses the global (`ON *.*`) privileges out of SHOW GRANTS lines. */
export function globalPrivileges(grants: string[]): Set<string> {
  const out = new Set<string>();
  for (const g of grants) {
    const m = /^GRANT\s+(.+?)\s+ON\s+\*\.\*\s+TO\s/i.exec(g);
    if (!m) continue;
    for (const p of m[1].split(',')) out.add(p.trim().toUpperCase());
  }
  return out;
}

export function versionOk(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  if (/mariadb/i.test(version)) return maj > 10 || (maj === 10 && min >= 1);
  return maj > 5 || (maj === 5 && min >= 6);
}

/** Every item, minus the ignored ones (`all` ignores everything). */
export function judge(f: Facts, ignore: string[]): CheckItem[] {
  const where = `source ${f.sourceId}`;
  const items: Omit<CheckItem, 'id'>[] = [
    item(
      'version',
      'check whether the upstream version is supported',
      versionOk(f.version)
        ? []
        : [{ severity: 'fail', short_error: `version ${f.version} is not supported` }],
      'Use MySQL 5.6+ or MariaDB 10.1+.',
      where,
    ),
    item(
      'server_id',
      'check whether the upstream server_id is set',
      f.serverId > 0 ? [] : [{ severity: 'fail', short_error: 'server_id is 0' }],
      'Set server_id to a unique non-zero value in the upstream configuration.',
      where,
    ),
    item(
      'dump_privilege',
      'check the dump privileges of the upstream user',
      [
        ...(has(f.upstreamPrivileges, 'SELECT')
          ? []
          : [{ severity: 'fail' as const, short_error: 'lacks SELECT' }]),
        ...(has(f.upstreamPrivileges, 'RELOAD')
          ? []
          : [{ severity: 'warn' as const, short_error: 'lacks RELOAD: the dump runs on one connection' }]),
        ...(has(f.upstreamPrivileges, 'REPLICATION CLIENT', 'BINLOG MONITOR', 'SUPER')
          ? []
          : [
              {
                severity: 'fail' as const,
                short_error: 'lacks REPLICATION CLIENT (BINLOG MONITOR): cannot read the binlog position',
              },
            ]),
      ],
      'GRANT SELECT, RELOAD, REPLICATION CLIENT ON *.* TO the user (MariaDB 10.5+: BINLOG MONITOR).',
      where,
    ),
  ];
  if (f.needsBinlog) {
    items.push(
      item(
        'replication_privilege',
        'check the replication privileges of the upstream user',
        has(f.upstreamPrivileges, 'REPLICATION SLAVE')
          ? []
          : [{ severity: 'fail', short_error: 'lacks REPLICATION SLAVE' }],
        'GRANT REPLICATION SLAVE ON *.* TO the user.',
        where,
      ),
      item(
        'binlog_enable',
        'check whether the upstream binlog is enabled',
        f.logBin ? [] : [{ severity: 'fail', short_error: 'log_bin is OFF' }],
        'Start the upstream with log_bin=ON.',
        where,
      ),
      item(
        'binlog_format',
        'check whether binlog_format is ROW',
        f.binlogFormat.toUpperCase() === 'ROW'
          ? []
          : [{ severity: 'fail', short_error: `binlog_format is ${f.binlogFormat}` }],
        'SET GLOBAL binlog_format = ROW (and in the configuration), then reconnect clients.',
        where,
      ),
      item(
        'binlog_row_image',
        'check whether binlog_row_image is FULL',
        f.binlogRowImage.toUpperCase() === 'FULL'
          ? []
          : [{ severity: 'fail', short_error: `binlog_row_image is ${f.binlogRowImage}` }],
        'SET GLOBAL binlog_row_image = FULL (and in the configuration).',
        where,
      ),
      item(
        'online_ddl',
        'check whether an online schema change (gh-ost, pt-osc) is in flight',
        f.onlineInFlight.map(([real, shadow]) => ({
          severity: 'warn' as const,
          short_error: `an online schema change of ${real} is in flight (shadow table ${shadow}): its ALTER ran before the task's start, so Sync cannot run it at the swap`,
        })),
        "Let the tool finish (or cancel it and drop its tables) before starting the task; otherwise, when the task pauses at the swap RENAME, apply the tool's ALTER on the target by hand and 'binlog skip' the RENAME.",
        where,
      ),
    );
  }
  items.push(
    item(
      'table_schema',
      'check whether the selected tables have a primary or unique key',
      f.keylessTables.map((t) => ({
        severity: 'warn' as const,
        short_error: `table ${t} has no primary or unique key`,
      })),
      'Add a primary key: without one, every change finds its row by all columns (slow) and parallel apply serializes on the table.',
      where,
    ),
    item(
      'target_privilege',
      'check the privileges of the target user',
      has(f.targetPrivileges, 'CREATE') &&
        has(f.targetPrivileges, 'INSERT') &&
        has(f.targetPrivileges, 'DELETE')
        ? []
        : [
            {
              severity: 'warn',
              short_error:
                'the target user has no CREATE, INSERT and DELETE on *.*; it needs them on every target schema',
            },
          ],
      'GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX ON *.* TO the target user (or on the target schemas).',
      'target',
    ),
  );
  const skipAll = ignore.includes('all');
  const kept = items.filter((i) => !skipAll && !ignore.includes(i.name));
  // Never ignored: such a task writes what it reads, for ever.
  if (f.sameServer) kept.unshift(sameServerItem(f));
  return kept.map((i, n) => ({ id: n, ...i }));
}

function sameServerItem(f: Facts): Omit<CheckItem, 'id'> {
  return item(
    'target_is_upstream',
    'check that the target is not the upstream server itself',
    f.selfFed.length
      ? [
          {
            severity: 'fail',
            short_error: `the target is the upstream server of source ${f.sourceId}, and ${f.selfFed.slice(0, 3).join(', ')}${f.selfFed.length > 3 ? ` and ${f.selfFed.length - 3} more` : ''} would be written onto ${f.selfFed.length > 1 ? 'themselves' : 'itself'}`,
          },
        ]
      : [{ severity: 'warn', short_error: `the target is the upstream server of source ${f.sourceId}` }],
    'Point target-database at another server, or route the selected tables to schemas the block-allow list leaves out.',
    `source ${f.sourceId}`,
  );
}
