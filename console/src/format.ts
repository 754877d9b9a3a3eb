// Human figures: SI units as network engineers read them.

const si = ['', 'k', 'M', 'G', 'T', 'P']

function scaled(n: number, unit: string, base = 1000): string {
  if (!isFinite(n)) return '–'
  let i = 0
  let v = Math.abs(n)
  while (v >= base && i < si.length - 1) {
    v /= base
    i++
  }
  const digits = v >= 100 || i === 0 ? 0 : v >= 10 ? 1 : 2
  return (n < 0 ? '-' : '') + v.toFixed(digits) + ' ' + si[i] + unit
}

export const bps = (n: number) => scaled(n, 'bps')
export const pps = (n: number) => scaled(n, 'pps')
export const bytes = (n: number) => scaled(n, 'B')
export const count = (n: number) => scaled(n, '').trim()
export const delta = (n: number) => (n >= 0 ? '+' : '') + bytes(n)
export const pct = (n: number) => (n * 100).toFixed(n < 0.1 && n > 0 ? 1 : 0) + '%'
export const ms = (us: number) => (us / 1000).toFixed(us < 10000 ? 2 : 1) + ' ms'

export function time(t: string | number | Date): string {
  const d = new Date(t)
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
}
