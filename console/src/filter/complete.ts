import type { CompletionContext, CompletionResult, Completion } from '@codemirror/autocomplete'
import { get } from '../api'

// Completion and checking of the filter language: the server parses it
// (GET /api/v1/filter/complete and /filter/validate), so the console
// offers exactly what the server accepts.

export interface FilterOption {
  label: string
  kind: 'dimension' | 'operator' | 'value' | 'keyword'
  detail?: string
  apply: string
}

export interface FilterCompletion {
  from: number
  to: number
  expect: string
  options: FilterOption[]
}

export interface FilterValidation {
  valid: boolean
  error?: { message: string; from: number; to: number }
  dimensions: string[]
}

export type CompleteFetcher = (filter: string, cursor: number) => Promise<FilterCompletion>

// CodeMirror's icon types for each kind of option.
const types: Record<FilterOption['kind'], string> = {
  dimension: 'property',
  operator: 'keyword',
  value: 'constant',
  keyword: 'keyword',
}

// toResult turns the server's answer into CodeMirror's, ranked as the
// server gave them (values by bytes).
export function toResult(c: FilterCompletion): CompletionResult | null {
  if (c.options.length === 0) return null
  const options: Completion[] = c.options.map((o, i) => ({
    label: o.label,
    apply: o.apply,
    detail: o.detail,
    type: types[o.kind],
    boost: -i / c.options.length,
  }))
  return { from: c.from, to: c.to, options, filter: false }
}

// completionSource asks the server what may come at the cursor: the
// whole text goes, so that the server knows what precedes it.
export function completionSource(fetch: CompleteFetcher) {
  return async (ctx: CompletionContext): Promise<CompletionResult | null> => {
    const text = ctx.state.doc.toString()
    const before = text.slice(0, ctx.pos)
    // Only on demand, or after a word, a quote, an operator or a space.
    if (!ctx.explicit && !/[\w".:/-]$|[=<>(,] ?$| $/.test(before)) return null
    const c = await fetch(text, ctx.pos)
    if (ctx.aborted) return null
    return toResult(c)
  }
}

// The fetchers against the API; from and to bound the values offered.
export function apiCompleter(range: () => { from: string; to: string }): CompleteFetcher {
  return (filter, cursor) => get<FilterCompletion>('filter/complete', { filter, cursor, ...range() })
}

export function validate(filter: string): Promise<FilterValidation> {
  return get<FilterValidation>('filter/validate', { filter })
}
