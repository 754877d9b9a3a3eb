import { describe, expect, it } from 'vitest'
import { consoleHref, labelText, verdict } from './alerts'

describe('alerts', () => {
  it('turns the alert console link into a link on this console, defaults left out', () => {
    expect(consoleHref('http://netstrata.example:8080/?from=2026-01-02T03%3A00%3A00Z&kind=node&node=worker-1&to=2026-01-02T04%3A00%3A00Z')).toBe(
      '/?from=2026-01-02T03%3A00%3A00Z&node=worker-1&to=2026-01-02T04%3A00%3A00Z',
    )
    expect(consoleHref('/?device=sw1&if_index=3&kind=interface')).toBe('/?device=sw1&if_index=3&kind=interface')
    expect(consoleHref('http://c/alerts?rule=AgentSilent')).toBe('/alerts?rule=AgentSilent')
    expect(consoleHref('')).toBe('')
  })

  it('lists the labels but the rule and severity, sorted', () => {
    expect(labelText({ alertname: 'X', severity: 'page', node: 'worker-1', direction: 'in' })).toBe('direction=in, node=worker-1')
  })

  it('keeps the verdict annotations present, in order', () => {
    expect(verdict({ summary: 's', top_pods: 'shop/frontend-0 (50%)', verdict: 'traffic spike', investigate_url: 'x' })).toEqual([
      ['verdict', 'traffic spike'],
      ['top pods', 'shop/frontend-0 (50%)'],
    ])
  })
})
