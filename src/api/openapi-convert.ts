// DM's OpenAPI v1 shapes (snake_case JSON, docs/dm-openapi.yaml) to and from DM's YAML files, the
// one form the master stores and checks: a Source becomes a source file, a Task a task file the
// way DM's OpenAPITaskToSubTaskConfigs reads it (each table_migrate_rule selects tables of its
// source, routes them when it has a target and names the binlog_filter_rule entries that apply to
// them; full/incr_migrate_conf tune every source), and back. Every field is either carried over
// or refused by the file's own checks; nothing is dropped. Pure.
import { stringify } from 'yaml';
import type { SourceConfig, TaskConfig } from '../task/config.js';
import type { QueryStatus, SubTaskStatus } from '../task/status.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies checked against DM's schema */
type Json = Record<string, any>;

export class ConvertError extends Error {}

const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const security = (s: Json | undefined): Json | undefined =>
  s &&
  defined({
    'ssl-ca-bytes': s.ssl_ca_content,
    'ssl-cert-bytes': s.ssl_cert_content,
    'ssl-key-bytes': s.ssl_key_content,
    'cert-allowed-cn': s.cert_allowed_cn,
  });

/** An OpenAPI Source as a DM source file. */
export function sourceFile(s: Json): string {
  if (s.enable === false)
    throw new ConvertError(
      "source.enable false is not supported: a source is enabled when it is created; leave 'enable' out or true",
    );
  for (const out of ['task_name_list', 'status_list'] as const)
    if (s[out] !== undefined)
      throw new ConvertError(`source.${out} is an answer field; leave it out of the request`);
  const relay = s.relay_config ?? {};
  return stringify(
    defined({
      'source-id': s.source_name,
      'enable-gtid': s.enable_gtid,
      flavor: s.flavor || undefined,
      'enable-relay': relay.enable_relay,
      'relay-binlog-name': relay.relay_binlog_name,
      'relay-binlog-gtid': relay.relay_binlog_gtid,
      'relay-dir': relay.relay_dir,
      from: defined({
        host: s.host,
        port: s.port,
        user: s.user,
        password: s.password ?? '',
        security: security(s.security),
      }),
      purge:
        s.purge &&
        defined({
          interval: s.purge.interval,
          expires: s.purge.expires,
          'remain-space': s.purge.remain_space,
        }),
    }),
  );
}

/** A source file as an OpenAPI Source (the password never leaves the master). */
export function apiSource(c: SourceConfig, tasks: string[]): Json {
  return {
    source_name: c.sourceId,
    host: c.from.host,
    port: c.from.port,
    user: c.from.user,
    password: '******',
    enable_gtid: c.enableGtid,
    enable: true,
    flavor: c.flavor || 'mysql',
    task_name_list: tasks,
    purge: { interval: c.purge.interval, expires: c.purge.expires, remain_space: c.purge.remainSpace },
    relay_config: {
      enable_relay: c.enableRelay,
      relay_binlog_name: c.relayBinlogName,
      relay_binlog_gtid: c.relayBinlogGtid,
      relay_dir: c.relayDir,
    },
  };
}

/** An OpenAPI Task as a DM task file, as DM's converter reads it. */
export function taskFile(t: Json): string {
  if (t.status_list !== undefined)
    throw new ConvertError('task.status_list is an answer field; leave it out of the request');
  const full = t.source_config?.full_migrate_conf ?? {};
  const incr = t.source_config?.incr_migrate_conf ?? {};
  const filters: Json = {};
  const routes: Json = {};
  const bal: Json = {};
  const instances = (t.source_config?.source_conf ?? []).map((sc: Json) => {
    const rules = (t.table_migrate_rule ?? []).filter((r: Json) => r.source.source_name === sc.source_name);
    const routeRules: string[] = [];
    const filterRules: string[] = [];
    const doDbs: string[] = [];
    const doTables: Json[] = [];
    rules.forEach((r: Json, j: number) => {
      const { schema, table } = r.source;
      if (r.target && (r.target.schema !== undefined || r.target.table !== undefined)) {
        const name = `${sc.source_name}-route-${j}`;
        routes[name] = defined({
          'schema-pattern': schema,
          'table-pattern': table || undefined,
          'target-schema': r.target.schema ?? '',
          'target-table': r.target.table,
        });
        routeRules.push(name);
      }
      for (const f of r.binlog_filter_rule ?? []) {
        const tmpl = t.binlog_filter_rule?.[f];
        if (!tmpl)
          throw new ConvertError(`table_migrate_rule names binlog_filter_rule '${f}', which is not defined`);
        const name = `${sc.source_name}-filter-${j}-${f}`;
        filters[name] = defined({
          'schema-pattern': schema,
          'table-pattern': table || undefined,
          events: tmpl.ignore_event,
          'sql-pattern': tmpl.ignore_sql,
          action: 'Ignore',
        });
        filterRules.push(name);
      }
      if (table) doTables.push({ 'db-name': schema, 'tbl-name': table });
      else if (!doDbs.includes(schema)) doDbs.push(schema);
    });
    const balName = doDbs.length || doTables.length ? `${sc.source_name}-bal` : undefined;
    if (balName)
      bal[balName] = defined({
        'do-dbs': doDbs.length ? doDbs : undefined,
        'do-tables': doTables.length ? doTables : undefined,
      });
    const meta =
      sc.binlog_name !== undefined || sc.binlog_pos !== undefined || sc.binlog_gtid !== undefined
        ? defined({
            'binlog-name': sc.binlog_name,
            'binlog-pos': sc.binlog_pos,
            'binlog-gtid': sc.binlog_gtid,
          })
        : undefined;
    return defined({
      'source-id': sc.source_name,
      meta,
      'block-allow-list': balName,
      'route-rules': routeRules.length ? routeRules : undefined,
      'filter-rules': filterRules.length ? filterRules : undefined,
      mydumper: defined({
        threads: full.export_threads,
        'extra-args': full.consistency !== undefined ? `--consistency ${full.consistency}` : undefined,
      }),
      loader: defined({
        // on_duplicate is the task's; DM gives it to every loader
        'on-duplicate': t.on_duplicate,
        'pool-size': full.import_threads,
        dir: full.data_dir,
        'import-mode': full.import_mode,
        'on-duplicate-logical': full.on_duplicate_logical,
        'on-duplicate-physical': full.on_duplicate_physical,
        'sorting-dir-physical': full.sorting_dir,
        'disk-quota-physical': full.disk_quota,
        'checksum-physical': full.checksum,
        analyze: full.analyze,
        'range-concurrency': full.range_concurrency,
        'compress-kv-pairs': full['compress-kv-pairs'],
        'pd-addr': full.pd_addr,
        security: security(full.security),
      }),
      syncer: defined({
        'worker-count': incr.repl_threads,
        batch: incr.repl_batch,
        'safe-mode': incr.safe_mode,
      }),
    });
  });
  for (const inst of instances)
    for (const k of ['mydumper', 'loader', 'syncer']) if (!Object.keys(inst[k]).length) delete inst[k];
  const target = t.target_config ?? {};
  return stringify(
    defined({
      name: t.name,
      'task-mode': t.task_mode,
      'shard-mode': t.shard_mode,
      'strict-optimistic-shard-mode': t.strict_optimistic_shard_mode,
      'meta-schema': t.meta_schema,
      timezone: t.timezone,
      'online-ddl': t.enhance_online_schema_change,
      'ignore-checking-items': t.ignore_checking_items,
      'target-database': defined({
        host: target.host,
        port: target.port,
        user: target.user,
        password: target.password ?? '',
        session: target.session,
        security: security(target.security),
      }),
      'mysql-instances': instances,
      'block-allow-list': Object.keys(bal).length ? bal : undefined,
      routes: Object.keys(routes).length ? routes : undefined,
      filters: Object.keys(filters).length ? filters : undefined,
    }),
  );
}

/** A task file as an OpenAPI Task (DM's SubTaskConfigsToOpenAPITask, roughly: the rules each
 * source's block-allow list, routes and filters make). */
export function apiTask(c: TaskConfig): Json {
  const rules: Json[] = [];
  const filterTemplates: Json = {};
  for (const inst of c.mysqlInstances) {
    const bal = c.blockAllowList.get(inst.blockAllowList);
    const sel: { schema: string; table: string }[] = [
      ...(bal?.doDbs ?? []).map((d) => ({ schema: d, table: '' })),
      ...(bal?.doTables ?? []).map((t) => ({ schema: t.dbName, table: t.tblName })),
    ];
    if (!sel.length) sel.push({ schema: '*', table: '' });
    for (const s of sel) {
      const route = inst.routeRules
        .map((n) => c.routes.get(n)!)
        .find((r) => r.schemaPattern === s.schema && (r.tablePattern || '') === s.table);
      const names = inst.filterRules.filter((n) => {
        const f = c.filters.get(n)!;
        return f.action === 'Ignore' && f.schemaPattern === s.schema && (f.tablePattern || '') === s.table;
      });
      for (const n of names) {
        const f = c.filters.get(n)!;
        filterTemplates[n] = defined({
          ignore_event: f.events.length ? f.events : undefined,
          ignore_sql: f.sqlPattern.length ? f.sqlPattern : undefined,
        });
      }
      rules.push(
        defined({
          source: { source_name: inst.sourceId, schema: s.schema, table: s.table },
          target: route
            ? defined({ schema: route.targetSchema || undefined, table: route.targetTable || undefined })
            : undefined,
          binlog_filter_rule: names.length ? names : undefined,
        }),
      );
    }
  }
  const first = c.mysqlInstances[0];
  return defined({
    name: c.name,
    task_mode: c.taskMode === 'load&sync' ? 'load' : c.taskMode,
    shard_mode: c.shardMode || undefined,
    meta_schema: c.metaSchema,
    timezone: c.timezone || undefined,
    enhance_online_schema_change: c.onlineDDL,
    on_duplicate: first?.loader.onDuplicate ?? 'replace',
    ignore_checking_items: c.ignoreCheckingItems.length ? c.ignoreCheckingItems : undefined,
    target_config: defined({
      host: c.targetDatabase.host,
      port: c.targetDatabase.port,
      user: c.targetDatabase.user,
      password: '******',
    }),
    binlog_filter_rule: Object.keys(filterTemplates).length ? filterTemplates : undefined,
    table_migrate_rule: rules,
    source_config: {
      full_migrate_conf: first && {
        export_threads: first.mydumper.threads,
        import_threads: first.loader.poolSize,
        data_dir: first.loader.dir,
      },
      incr_migrate_conf: first && {
        repl_threads: first.syncer.workerCount,
        repl_batch: first.syncer.batch,
        safe_mode: first.syncer.safeMode,
      },
      source_conf: c.mysqlInstances.map((i) =>
        defined({
          source_name: i.sourceId,
          binlog_name: i.meta?.binlogName || undefined,
          binlog_pos: i.meta?.binlogName ? i.meta.binlogPos : undefined,
          binlog_gtid: i.meta?.binlogGtid || undefined,
        }),
      ),
    },
  });
}

const num = (s: string | undefined): number => {
  const n = Number(s);
  return Number.isFinite(n) ? n : 0;
};

/** query-status's subtasks (the seed's shape) as OpenAPI SubTaskStatus entries. */
export function apiSubTaskStatus(q: QueryStatus): Json[] {
  const out: Json[] = [];
  for (const w of q.workers) {
    for (const st of w.subTaskStatus as (SubTaskStatus & Json)[]) {
      const sync = st.sync as Json | undefined;
      const load = st.load as Json | undefined;
      const dump = st.dump as Json | undefined;
      out.push(
        defined({
          name: st.name,
          source_name: w.source ?? st.source ?? '',
          worker_name: w.worker,
          stage: st.stage === 'New' ? 'Paused' : st.stage,
          unit: st.unit,
          unresolved_ddl_lock_id: st.unresolvedDDLLockID || undefined,
          error_msg: st.result?.errors?.length ? st.result.errors.map((e) => e.msg).join('; ') : undefined,
          dump_status: dump && {
            total_tables: num(dump.totalTables),
            completed_tables: num(dump.completedTables),
            finished_bytes: num(dump.finishedBytes),
            finished_rows: num(dump.finishedRows),
            estimate_total_rows: num(dump.estimateTotalRows),
            bps: num(dump.bps),
            progress: String(dump.progress ?? ''),
          },
          load_status: load && {
            finished_bytes: num(load.finishedBytes),
            total_bytes: num(load.totalBytes),
            progress: String(load.progress ?? ''),
            meta_binlog: String(load.metaBinlog ?? ''),
            meta_binlog_gtid: String(load.metaBinlogGTID ?? ''),
            bps: num(load.bps),
          },
          sync_status: sync && {
            total_events: num(sync.totalEvents),
            total_tps: num(sync.totalTps),
            recent_tps: num(sync.recentTps),
            master_binlog: String(sync.masterBinlog ?? ''),
            master_binlog_gtid: String(sync.masterBinlogGtid ?? ''),
            syncer_binlog: String(sync.syncerBinlog ?? ''),
            syncer_binlog_gtid: String(sync.syncerBinlogGtid ?? ''),
            blocking_ddls: (sync.blockingDDLs as string[] | undefined) ?? [],
            unresolved_groups: ((sync.unresolvedGroups as Json[] | undefined) ?? []).map((g) => ({
              target: String(g.target ?? ''),
              ddl_list: (g.DDLs as string[] | undefined) ?? [],
              first_location: String(g.firstPos ?? ''),
              synced: (g.synced as string[] | undefined) ?? [],
              unsynced: (g.unsynced as string[] | undefined) ?? [],
            })),
            synced: sync.synced === true,
            binlog_type: String(sync.binlogType ?? ''),
            seconds_behind_master: num(sync.secondsBehindMaster),
            io_total_bytes: num(sync.ioTotalBytes),
            dump_io_total_bytes: num(sync.dumpIOTotalBytes),
          },
        }),
      );
    }
  }
  return out;
}
