// The lag chart: seconds behind the upstream per subtask over the last minutes (uPlot).
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { LagHistory } from './model.js';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

export function LagChart({ history, tick }: { history: LagHistory; tick: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const names = useRef('');
  useEffect(() => {
    const { names: n, columns } = history.data();
    if (!box.current) return;
    if (!plot.current || names.current !== n.join('\0')) {
      plot.current?.destroy();
      names.current = n.join('\0');
      plot.current = new uPlot(
        {
          width: Math.max(320, box.current.clientWidth),
          height: 200,
          scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: [{}, { label: 'seconds behind' }],
          series: [{}, ...n.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2 }))],
        },
        columns as uPlot.AlignedData,
        box.current,
      );
    } else plot.current.setData(columns as uPlot.AlignedData);
  }, [tick]);
  useEffect(() => () => plot.current?.destroy(), []);
  return <div class="chart" ref={box} data-testid="lag-chart" />;
}
