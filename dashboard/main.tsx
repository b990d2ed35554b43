// dm-master's dashboard (/dashboard/): sources and workers, tasks with their subtasks' stage,
// unit, progress and lag (live, every 2 s), errors with their workaround, the lag chart, and the
// operator's buttons: pause/resume/stop a task, start one from a task file, skip or replace a
// failing binlog event, unlock a shard DDL lock. Bundled by scripts/build-dashboard.ts.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { failure, post, readAll } from './api.js';
import { LagChart } from './chart.js';
import { LagHistory, snapshot, type Snapshot, type SubtaskView, type TaskView } from './model.js';

const history = new LagHistory();

function useSnapshot(): { s?: Snapshot; error?: string; tick: number; refresh: () => void } {
  const [state, setState] = useState<{ s?: Snapshot; error?: string; tick: number }>({ tick: 0 });
  const refresh = async () => {
    try {
      const s = snapshot(await readAll());
      history.add(Date.now() / 1000, s);
      setState((o) => ({ s, tick: o.tick + 1 }));
    } catch (e) {
      setState((o) => ({ ...o, error: `cannot reach dm-master: ${(e as Error).message}` }));
    }
  };
  useEffect(() => {
    void refresh();
    const t = setInterval(refresh, 2000);
    return () => clearInterval(t);
  }, []);
  return { ...state, refresh: () => void refresh() };
}

function App() {
  const { s, error, tick, refresh } = useSnapshot();
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | undefined>();
  const act = async (what: string, path: string, body: unknown) => {
    const a = await post(path, body).catch((e: Error) => ({ result: false, msg: e.message }));
    const bad = failure(a);
    setNotice(bad ? { ok: false, text: `${what}: ${bad}` } : { ok: true, text: `${what}: done` });
    refresh();
  };
  return (
    <main>
      <header>
        <h1>dm-master</h1>
        <span class="masters">
          {s?.masters.map((m) => (
            <span class={`pill ${m.alive ? 'ok' : 'bad'}`} key={m.name}>
              {m.name}
              {m.leader ? ' (leader)' : ''}
            </span>
          ))}
        </span>
      </header>
      {error && <p class="notice bad">{error}</p>}
      {notice && (
        <p class={`notice ${notice.ok ? 'ok' : 'bad'}`} data-testid="notice">
          {notice.text}
        </p>
      )}
      <section>
        <h2>Tasks</h2>
        {s && !s.tasks.length && <p class="muted">No task. Start one from a task file below.</p>}
        {s?.tasks.map((t) => (
          <Task key={t.name} t={t} act={act} />
        ))}
        <StartTask act={act} />
      </section>
      <section>
        <h2>Lag</h2>
        <LagChart history={history} tick={tick} />
      </section>
      <section>
        <h2>Shard DDL locks</h2>
        {s && !s.locks.length && <p class="muted">None.</p>}
        {s?.locks.map((l) => (
          <div class="lock" key={l.id} data-testid="lock">
            <code>{l.id}</code> owner {l.owner || '-'}, waiting for {l.unsynced.join(', ') || 'nothing'}
            <pre>{l.ddls.join(';\n')}</pre>
            <button onClick={() => act(`unlock ${l.id}`, '/shard-ddl-locks/unlock', { id: l.id })}>
              Unlock
            </button>
          </div>
        ))}
      </section>
      <section class="two">
        <div>
          <h2>Sources</h2>
          <table>
            <thead>
              <tr>
                <th>source</th>
                <th>worker</th>
                <th>relay</th>
              </tr>
            </thead>
            <tbody>
              {s?.sources.map((x) => (
                <tr key={x.id} data-testid={`source-${x.id}`}>
                  <td>{x.id}</td>
                  <td>
                    <span class={`pill ${x.workerStage === 'bound' ? 'ok' : 'bad'}`}>{x.workerStage}</span>{' '}
                    {x.worker}
                    {x.error && <div class="err">{x.error}</div>}
                  </td>
                  <td class={x.relayBehind ? 'warn' : ''}>{x.relay}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div>
          <h2>Workers</h2>
          <table>
            <tbody>
              {s?.workers.map((w) => (
                <tr key={w.name}>
                  <td>{w.name}</td>
                  <td>{w.addr}</td>
                  <td>
                    <span class={`pill ${w.stage === 'offline' ? 'bad' : 'ok'}`}>{w.stage}</span> {w.source}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </main>
  );
}

type Act = (what: string, path: string, body: unknown) => Promise<void>;

function Task({ t, act }: { t: TaskView; act: Act }) {
  const op = (o: string) => act(`${o} ${t.name}`, `/tasks/${encodeURIComponent(t.name)}/${o}`, {});
  return (
    <div class="task" data-testid={`task-${t.name}`}>
      <h3>
        {t.name}{' '}
        <span class={`pill ${/Error|Paused/.test(t.status) ? 'bad' : 'ok'}`} data-testid="task-status">
          {t.status}
        </span>
        <span class="buttons">
          <button onClick={() => op('pause')}>Pause</button>
          <button onClick={() => op('resume')}>Resume</button>
          <button onClick={() => confirm(`Stop task ${t.name}?`) && op('stop')}>Stop</button>
        </span>
      </h3>
      <table>
        <thead>
          <tr>
            <th>source</th>
            <th>stage</th>
            <th>unit</th>
            <th>progress</th>
            <th>lag</th>
          </tr>
        </thead>
        <tbody>
          {t.subtasks.map((st) => (
            <Subtask key={st.source} st={st} act={act} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Subtask({ st, act }: { st: SubtaskView; act: Act }) {
  const binlog = (o: 'skip' | 'replace') => {
    const sqls =
      o === 'replace' ? prompt('SQL to run instead of the failing event (statements separated by ;)') : '';
    if (sqls === null) return;
    void act(`binlog ${o} on ${st.source}`, `/tasks/${encodeURIComponent(st.task)}/binlog`, {
      op: o,
      sources: [st.source],
      ...(o === 'replace'
        ? {
            sqls: sqls
              .split(';')
              .map((x) => x.trim())
              .filter(Boolean),
          }
        : {}),
    });
  };
  return (
    <>
      <tr data-testid={`subtask-${st.source}`}>
        <td>{st.source}</td>
        <td>
          <span
            class={`pill ${st.stage === 'Running' || st.stage === 'Finished' ? 'ok' : 'bad'}`}
            data-testid="stage"
          >
            {st.stage}
          </span>
        </td>
        <td>{st.unit}</td>
        <td>
          {st.progress !== undefined && (
            <div class="bar" title={`${st.progress} %`}>
              <div style={{ width: `${st.progress}%` }} />
            </div>
          )}
          <span class="muted">{st.progressText}</span>
        </td>
        <td data-testid="lag">{st.lag === undefined ? '' : `${st.lag} s${st.synced ? ' (synced)' : ''}`}</td>
      </tr>
      {st.errors.map((e, i) => (
        <tr class="error-row" key={i} data-testid="error">
          <td colSpan={5}>
            <div class="err">
              {e.code !== undefined && <b>[{e.code}] </b>}
              {e.msg}
            </div>
            {e.workaround && (
              <div class="workaround" data-testid="workaround">
                Workaround: {e.workaround}
              </div>
            )}
            {st.canHandleError && (
              <span class="buttons">
                <button onClick={() => binlog('skip')}>Skip event</button>
                <button onClick={() => binlog('replace')}>Replace event…</button>
              </span>
            )}
          </td>
        </tr>
      ))}
      {st.lock && (
        <tr>
          <td colSpan={5} class="muted">
            waits on DDL lock <code>{st.lock}</code>
          </td>
        </tr>
      )}
    </>
  );
}

function StartTask({ act }: { act: Act }) {
  return (
    <label class="start">
      Start a task from a task file:{' '}
      <input
        type="file"
        accept=".yaml,.yml"
        data-testid="task-file"
        onChange={async (e) => {
          const input = e.currentTarget as HTMLInputElement;
          const f = input.files?.[0];
          if (!f) return;
          await act(`start-task ${f.name}`, '/tasks', { files: [{ file: f.name, yaml: await f.text() }] });
          input.value = '';
        }}
      />
    </label>
  );
}

render(<App />, document.getElementById('app')!);
