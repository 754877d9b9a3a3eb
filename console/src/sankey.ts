import type { TrafficMap } from './types'

// sankeyLinks turns a traffic map into the three columns source pod →
// destination port → destination, bytes summed per link. Names carry
// their column so that a pod that both sends and receives stays two
// nodes (a Sankey has no cycles).
export interface SankeyData {
  nodes: { name: string; label: string; column: number }[]
  links: { source: string; target: string; value: number }[]
}

export function sankeyLinks(m: TrafficMap): SankeyData {
  const label = new Map(m.nodes.map((n) => [n.id, n.label]))
  const nodes = new Map<string, { name: string; label: string; column: number }>()
  const links = new Map<string, { source: string; target: string; value: number }>()
  const node = (column: number, text: string) => {
    const name = ['src', 'port', 'dst'][column] + ':' + text
    if (!nodes.has(name)) nodes.set(name, { name, label: text, column })
    return name
  }
  const link = (source: string, target: string, value: number) => {
    const k = source + '\u0000' + target
    const l = links.get(k) ?? { source, target, value: 0 }
    l.value += value
    links.set(k, l)
  }
  for (const e of m.edges) {
    if (e.bytes <= 0) continue
    const s = node(0, label.get(e.source) ?? e.source)
    const p = node(1, ':' + e.port)
    const d = node(2, label.get(e.target) ?? e.target)
    link(s, p, e.bytes)
    link(p, d, e.bytes)
  }
  return { nodes: [...nodes.values()], links: [...links.values()] }
}
