import { describe, expect, it } from 'vitest'
import { foldSankey, sankeyLinks } from './sankey'

describe('Sankey of a traffic map', () => {
  const node = (id: string, label: string) => ({ id, kind: 'pod', label })
  const edge = (source: string, target: string, port: number, bytes: number) => ({ source, target, port, bytes, connections: null, rtt_avg_us: null, retransmits: null })

  it('lays out source → port → destination and sums bytes per link', () => {
    const d = sankeyLinks({
      nodes: [node('a', 'shop/frontend-0'), node('b', 'shop/frontend-1'), node('api', 'shop/api-0')],
      edges: [edge('a', 'api', 8081, 10), edge('b', 'api', 8081, 30), edge('a', 'api', 8081, 5)],
    })
    expect(d.nodes.map((n) => [n.column, n.label])).toEqual([[0, 'shop/frontend-0'], [1, ':8081'], [2, 'shop/api-0'], [0, 'shop/frontend-1']])
    expect(d.links).toContainEqual({ source: 'src:shop/frontend-0', target: 'port::8081', value: 15 })
    expect(d.links).toContainEqual({ source: 'port::8081', target: 'dst:shop/api-0', value: 45 })
  })

  it('keeps a pod that sends and receives as two nodes, so that there is no cycle', () => {
    const d = sankeyLinks({ nodes: [node('a', 'a'), node('b', 'b')], edges: [edge('a', 'b', 80, 1), edge('b', 'a', 80, 1)] })
    const names = d.nodes.map((n) => n.name)
    expect(names).toContain('src:a')
    expect(names).toContain('dst:a')
    const column = new Map(d.nodes.map((n) => [n.name, n.column]))
    for (const l of d.links) expect(column.get(l.source)! < column.get(l.target)!).toBe(true)
  })

  it('leaves out edges without bytes', () => {
    expect(sankeyLinks({ nodes: [node('a', 'a')], edges: [edge('a', 'a', 1, 0)] }).links).toEqual([])
  })

  it('folds the smaller nodes of a crowded column into one, keeping every byte', () => {
    const pods = [...Array(5).keys()].map((i) => node('p' + i, 'pod-' + i))
    const d = foldSankey(sankeyLinks({ nodes: [...pods, node('api', 'api')], edges: pods.map((p, i) => edge(p.id, 'api', 80, 10 + i)) }), 3)
    expect(d.nodes.filter((n) => n.column === 0).map((n) => n.label)).toEqual(['pod-4', 'pod-3', '3 others'])
    expect(d.links).toContainEqual({ source: 'src:3 others', target: 'port::80', value: 10 + 11 + 12 })
    expect(d.links.filter((l) => l.target === 'port::80').reduce((a, l) => a + l.value, 0)).toBe(60)
  })
})
