import type { SeriesResponse } from './types'
import * as fmt from './format'
import { textColor } from './theme'

// The options of an interface's in/out chart (SNMP series), brushable,
// with optional shaded windows on the in series.
export function rateChartOption(s: SeriesResponse, unit: 'bps' | 'pps', from: string, to: string, shade: unknown[] = []) {
  const f = unit === 'bps' ? fmt.bps : fmt.pps
  const pick = (k: 'in' | 'out') => s.points.map((pt) => [new Date(pt.time).getTime(), pt[`${k}_${unit}` as 'in_bps']])
  return {
    textStyle: { color: textColor() },
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => f(v) },
    legend: { data: ['in', 'out'], right: 10, top: 0, textStyle: { color: textColor() } },
    grid: { left: 70, right: 20, top: 36, bottom: 30 },
    xAxis: { type: 'time', min: new Date(from).getTime(), max: new Date(to).getTime() },
    yAxis: { type: 'value', axisLabel: { formatter: f } },
    brush: { xAxisIndex: 0, brushType: 'lineX', brushMode: 'single' },
    toolbox: { show: false },
    series: [
      { name: 'in', type: 'line', showSymbol: false, sampling: 'lttb', data: pick('in'), markArea: { silent: true, label: { color: textColor() }, data: shade } },
      { name: 'out', type: 'line', showSymbol: false, sampling: 'lttb', data: pick('out') },
    ],
  }
}

// brushRange is a brushed span as the range parameters, to the second.
export function brushRange(from: number, to: number): { from: string; to: string } {
  const iso = (t: number) => new Date(Math.round(t / 1000) * 1000).toISOString().replace('.000Z', 'Z')
  return { from: iso(from), to: iso(to) }
}
