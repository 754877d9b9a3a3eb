import { describe, expect, it } from 'vitest'
import { parseLocation, viewURL, viewKey, param, type View } from './state'

describe('URL ⇄ state', () => {
  it('round-trips every page with its parameters', () => {
    const views: View[] = [
      { page: 'investigate', q: { kind: 'ip', ip: '10.0.0.1', from: '2026-01-02T03:04:05Z', to: '2026-01-02T04:04:05Z' } },
      { page: 'explore', q: { filter: 'SrcPod = "a b" AND DstPort IN (80, 443)', by: 'src_pod,dst_port', metric: 'bytes' } },
      { page: 'interface', q: { device: 'sw/1', if_index: '3', from: '-6h' } },
      { page: 'interfaces', q: { sort: 'name', dir: 'asc', search: 'Gi0' } },
      { page: 'status', q: {} },
      { page: 'map', q: { port: '8081' } },
      { page: 'alerts', q: { rule: 'NodeTrafficSpike', from: '-7d' } },
    ]
    for (const v of views) {
      const url = new URL(viewURL(v), 'http://x')
      expect(parseLocation(url.pathname, url.search)).toEqual(v)
    }
  })

  it('leaves defaults and empty values out, so that one view has one URL', () => {
    expect(viewURL({ page: 'investigate', q: { kind: 'node', from: '-1h', to: 'now', node: '' } })).toBe('/')
    expect(viewURL({ page: 'explore', q: { metric: 'bytes', by: 'dst_port' } })).toBe('/explore?metric=bytes')
  })

  it('sorts keys so that equal views have equal URLs', () => {
    expect(viewURL({ page: 'map', q: { port: '80', node: 'n1' } })).toBe('/map?node=n1&port=80')
  })

  it('reads defaults for absent parameters', () => {
    const v = parseLocation('/explore', '?filter=x')
    expect(param(v, 'metric')).toBe('bps')
    expect(param(v, 'filter')).toBe('x')
  })

  it('falls back to the investigate page for an unknown path', () => {
    expect(parseLocation('/nope', '').page).toBe('investigate')
    expect(parseLocation('/explore/', '').page).toBe('explore')
  })

  it('encodes filter text so that quotes, spaces and ampersands survive', () => {
    const q = { filter: 'App = "a&b=c" OR SrcIP = 2001:db8::1' }
    const url = new URL(viewURL({ page: 'explore', q }), 'http://x')
    expect(parseLocation(url.pathname, url.search).q.filter).toBe(q.filter)
  })

  it('keys a view apart from its display-only parameters, whatever the order', () => {
    const a = parseLocation('/', '?to=now&node=n1&from=-6h&unit=pps')
    const b = parseLocation('/', '?from=-6h&node=n1')
    expect(viewKey(a, 'unit')).toBe(viewKey(b, 'unit'))
    expect(viewKey(a)).not.toBe(viewKey(b))
  })
})
