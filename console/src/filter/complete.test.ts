import { describe, expect, it } from 'vitest'
import { EditorState } from '@codemirror/state'
import { CompletionContext } from '@codemirror/autocomplete'
import { completionSource, toResult, type FilterCompletion } from './complete'

// The server's answer as /api/v1/filter/complete gives it.
function answer(from: number, to: number, options: FilterCompletion['options']): FilterCompletion {
  return { from, to, expect: 'value', options }
}

function run(doc: string, pos: number, explicit: boolean, reply: FilterCompletion) {
  const asked: [string, number][] = []
  const source = completionSource(async (filter, cursor) => {
    asked.push([filter, cursor])
    return reply
  })
  const state = EditorState.create({ doc })
  return source(new CompletionContext(state, pos, explicit)).then((r) => ({ r, asked }))
}

describe('filter completion', () => {
  it('asks the server with the whole text and the cursor, and replaces the span it names', async () => {
    const reply = answer(9, 12, [
      { label: 'frontend-0', kind: 'value', detail: 'SrcPod', apply: 'frontend-0 ' },
      { label: 'frontend 1', kind: 'value', detail: 'SrcPod', apply: '"frontend 1" ' },
    ])
    const { r, asked } = await run('SrcPod = fro AND DstPort = 80', 12, false, reply)
    expect(asked).toEqual([['SrcPod = fro AND DstPort = 80', 12]])
    expect(r?.from).toBe(9)
    expect(r?.to).toBe(12)
    expect(r?.options.map((o) => o.apply)).toEqual(['frontend-0 ', '"frontend 1" '])
    expect(r?.options[0].type).toBe('constant')
  })

  it('keeps the server order: values by bytes first', async () => {
    const r = toResult(answer(0, 0, [
      { label: 'b', kind: 'value', apply: 'b' },
      { label: 'a', kind: 'value', apply: 'a' },
    ]))!
    expect(r.filter).toBe(false)
    expect((r.options[0].boost ?? 0) > (r.options[1].boost ?? 0)).toBe(true)
  })

  it('names dimensions as properties and operators as keywords', () => {
    const r = toResult(answer(0, 2, [
      { label: 'SrcPod', kind: 'dimension', detail: 'source pod name', apply: 'SrcPod ' },
      { label: 'IN', kind: 'operator', apply: 'IN (' },
    ]))!
    expect(r.options.map((o) => o.type)).toEqual(['property', 'keyword'])
    expect(r.options[0].detail).toBe('source pod name')
  })

  it('offers nothing when the server has nothing', async () => {
    const { r } = await run('SrcPod = a ', 11, true, answer(11, 11, []))
    expect(r).toBeNull()
  })

  it('does not ask in the middle of nowhere unless asked', async () => {
    const { r, asked } = await run('SrcPod = a)', 11, false, answer(0, 0, []))
    expect(asked).toEqual([])
    expect(r).toBeNull()
  })
})
