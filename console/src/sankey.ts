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

// foldSankey keeps the keep − 1 largest nodes of each column that has
// more than keep and folds the others into one "N others" node: a Sankey
// of a hundred pods is neither readable nor quick to draw. The table
// keeps every link.
export function foldSankey(d: SankeyData, keep: number): SankeyData {
  const through = new Map<string, number>()
  for (const l of d.links) {
    through.set(l.source, (through.get(l.source) ?? 0) + l.value)
    through.set(l.target, (through.get(l.target) ?? 0) + l.value)
  }
  const into = new Map<string, string>()
  const nodes: SankeyData['nodes'] = []
  for (const column of [0, 1, 2]) {
    const ns = d.nodes.filter((n) => n.column === column).sort((a, b) => (through.get(b.name) ?? 0) - (through.get(a.name) ?? 0))
    const kept = ns.length > keep ? ns.slice(0, keep - 1) : ns
    for (const n of kept) into.set(n.name, n.name)
    nodes.push(...kept)
    if (kept.length < ns.length) {
      const label = `${ns.length - kept.length} others`
      const name = ['src', 'port', 'dst'][column] + ':' + label
      for (const n of ns.slice(kept.length)) into.set(n.name, name)
      nodes.push({ name, label, column })
    }
  }
  const links = new Map<string, SankeyData['links'][number]>()
  for (const l of d.links) {
    const source = into.get(l.source)!, target = into.get(l.target)!
    const k = source + '\u0000' + target
    const m = links.get(k) ?? { source, target, value: 0 }
    m.value += l.value
    links.set(k, m)
  }
  return { nodes, links: [...links.values()] }
}
