import { href } from './router'

// Links from an element of a page into Explore with its filter filled in.

// quoteValue writes a filter value, quoted unless it is a plain word or
// number.
export function quoteValue(v: string): string {
  return /^[A-Za-z0-9_.:-]+$/.test(v) && !/^(AND|OR|NOT|IN)$/i.test(v) ? v : '"' + v.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"'
}

// endpointFilter is the filter for a pod ("namespace/pod") or an address,
// on the given side (Src or Dst).
export function endpointFilter(side: 'Src' | 'Dst', key: string): string {
  if (/^[0-9a-fA-F.:]+$/.test(key) && (key.includes('.') || key.includes(':'))) return `${side}IP = ${quoteValue(key)}`
  const [ns, pod] = key.includes('/') ? key.split('/', 2) : ['', key]
  return (ns ? `${side}Namespace = ${quoteValue(ns)} AND ` : '') + `${side}Pod = ${quoteValue(pod)}`
}

export function exploreHref(filter: string, by: string, from: string, to: string): string {
  return href('explore', { filter, by, from, to })
}
