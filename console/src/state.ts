// The whole view lives in the URL: the page in the path, its state in the
// query string, so that a view can be bookmarked and shared and the
// browser's back button walks back through views. The token never goes
// here (see api.ts).

export type Page = 'investigate' | 'explore' | 'interfaces' | 'interface' | 'status' | 'map' | 'alerts'

export interface View {
  page: Page
  // Query parameters of the page; empty values are dropped.
  q: Record<string, string>
}

// Paths of the pages; the interface page carries device and ifIndex in
// its path (/interfaces/sw1/3).
const paths: Record<Exclude<Page, 'interface'>, string> = {
  investigate: '/',
  explore: '/explore',
  interfaces: '/interfaces',
  status: '/status',
  map: '/map',
  alerts: '/alerts',
}

// Defaults of every page's parameters: a parameter at its default is
// left out of the URL, so that the same view has one URL.
export const defaults: Record<Page, Record<string, string>> = {
  investigate: { kind: 'node', from: '-1h', to: 'now', unit: 'bps' },
  explore: { by: 'dst_port', metric: 'bps', from: '-1h', to: 'now', limit: '10' },
  interfaces: { sort: 'in_bps', dir: 'desc', from: '-1h', to: 'now' },
  interface: { from: '-1h', to: 'now', unit: 'bps' },
  status: {},
  map: { from: '-15m', to: 'now' },
  alerts: { from: '-24h', to: 'now' },
}

// parseLocation reads a view from a path and query string.
export function parseLocation(pathname: string, search: string): View {
  const q: Record<string, string> = {}
  new URLSearchParams(search).forEach((v, k) => {
    if (v !== '') q[k] = v
  })
  const parts = pathname.replace(/\/+$/, '').split('/').filter((s) => s !== '').map(decodeURIComponent)
  if (parts[0] === 'interfaces' && parts.length === 3) {
    q.device = parts[1]
    q.if_index = parts[2]
    return { page: 'interface', q }
  }
  const page = (Object.keys(paths) as Page[]).find((p) => paths[p as keyof typeof paths] === '/' + (parts[0] ?? ''))
  return { page: page ?? 'investigate', q }
}

// viewURL writes a view as a path and query string, keys sorted and
// defaults left out.
export function viewURL(v: View): string {
  let path: string
  const q = { ...v.q }
  if (v.page === 'interface') {
    path = '/interfaces/' + encodeURIComponent(q.device ?? '') + '/' + encodeURIComponent(q.if_index ?? '')
    delete q.device
    delete q.if_index
  } else {
    path = paths[v.page]
  }
  const d = defaults[v.page]
  const keys = Object.keys(q).filter((k) => q[k] !== undefined && q[k] !== '' && q[k] !== d[k]).sort()
  if (keys.length === 0) return path
  const sp = new URLSearchParams()
  for (const k of keys) sp.set(k, q[k])
  return path + '?' + sp.toString()
}

// param is a page parameter or its default.
export function param(v: View, name: string): string {
  return v.q[name] ?? defaults[v.page][name] ?? ''
}

// viewKey identifies a view but for some parameters: pages reload when
// it changes, and only redraw for the parameters left out.
export function viewKey(v: View, ...except: string[]): string {
  const q = { ...v.q }
  for (const k of except) delete q[k]
  return viewURL({ page: v.page, q })
}
