// The console's checks against `netstrata standalone` fed by the demo
// lab's real traffic (pods in network namespaces sending a baseline then
// a spike to the APM collector's port, seen by softflowd, snmpd and the
// eBPF agent), investigating the collector's bridge port, driven by the end-to-end test of cmd/netstrata, which
// passes what the generator did in NETSTRATA_E2E. Each check throws on
// the first thing that does not hold; any error in the browser's console
// fails the run.
import { facts as f, launch, watch, check, step, shot, drawn, filterEditor, sankeyLinks, badFilter, fits } from './lib.mjs'

const context = await launch()
const errors = []
const page = watch(context.pages()[0] ?? (await context.newPage()), errors)
const text = (sel, p = page) => p.locator(sel).first().innerText()
const url = (p, q) => f.base + p + (q ? '?' + new URLSearchParams(q).toString() : '')
const port = ':' + f.port

try {
  await step('investigating the collector\'s port shows the spike window and names the port and the pods', async () => {
    await page.goto(url('/', f.subject))
    const ms = await drawn(page)
    console.log(`figure: investigate page drawn in ${Math.round(ms)} ms after navigation (standalone, loopback)`)
    const windows = await text('[data-testid=windows]')
    check(windows.includes('spike ' + f.spikeStart) && windows.includes(f.spikeEnd), `spike window ${f.spikeStart}–${f.spikeEnd} in ${JSON.stringify(windows)}`)
    const verdict = await text('[data-testid=verdict]')
    check(verdict.includes(port), 'verdict names the port: ' + verdict)
    check((await page.locator('[data-testid=missing]').count()) === 0, 'no layer missing: ' + (await page.locator('main').innerText()).slice(0, 400))
    check((await text('section[aria-label=Ports] tbody tr')).startsWith(port), 'first port ' + (await text('section[aria-label=Ports] tbody tr')))
    const pods = await text('section[aria-label=Pods] tbody')
    for (const p of f.pods) check(pods.includes(p), `pod ${p} among contributors: ${pods}`)
    check(!pods.includes(f.quiet), `quiet pod ${f.quiet} not a contributor: ${pods}`)
    await fits(page, 'standalone-investigate')
    await shot(page, f.screenshots, 'standalone-investigate')
  })

  await step('the Sankey goes from the sending pods to the port to the collector', async () => {
    const links = await sankeyLinks(page)
    for (const p of f.pods) check(links.includes(`${p} → ${port}`), `link ${p} → ${port} in ${JSON.stringify(links)}`)
    check(links.some((l) => l === `${port} → ${f.destination}`), `link ${port} → ${f.destination} in ${JSON.stringify(links)}`)
    check(!links.some((l) => l.startsWith(f.quiet)), `no link from the quiet pod in ${JSON.stringify(links)}`)
  })

  await step('a shared URL reopens the same view', async () => {
    const other = watch(await context.newPage(), errors)
    await other.goto(page.url())
    await drawn(other)
    const [a, b] = [await text('[data-testid=verdict]'), await text('[data-testid=verdict]', other)]
    check(a === b, `same verdict in a new tab: ${JSON.stringify(a)} then ${JSON.stringify(b)}`)
    check((await text('[data-testid=windows]', other)) === (await text('[data-testid=windows]')), 'same windows in a new tab')
    check((await other.locator('select[name=kind]').inputValue()) === 'interface', 'same kind of subject in the form')
    check((await other.locator('select[name=interface]').inputValue()) === `${f.subject.device}#${f.subject.if_index}`, 'same interface in the form')
    await other.close()
  })

  await step('filter completion offers dimension names and the lab\'s values', async () => {
    await page.goto(url('/explore', { filter: 'DstPort = ' + f.port, by: 'src_pod', from: f.from, to: f.to }))
    await page.locator('[data-testid=explore-table] tbody tr').first().waitFor()
    const rows = await page.locator('[data-testid=explore-table] tbody tr').allInnerTexts()
    for (const p of f.pods) check(rows.some((r) => r.startsWith(p)), `explore row ${p} in ${JSON.stringify(rows)}`)
    const fe = filterEditor(page)
    await fe.type('Src')
    await fe.options.first().waitFor()
    const dims = await fe.options.allInnerTexts()
    check(dims.some((o) => o.startsWith('SrcPod')) && dims.some((o) => o.startsWith('SrcIP')), 'dimensions offered: ' + JSON.stringify(dims))
    await page.keyboard.press('Escape')
    const first = f.pods[0].split('/')[1]
    await fe.type('SrcPod = ' + first.slice(0, 3))
    await page.waitForFunction((v) => [...document.querySelectorAll('.cm-tooltip-autocomplete li')].some((li) => li.textContent.startsWith(v)), first)
    const values = await fe.options.allInnerTexts()
    for (const p of f.pods) check(values.some((o) => o.startsWith(p.split('/')[1])), `value ${p} offered: ${JSON.stringify(values)}`)
    await page.keyboard.press('Escape')
    await badFilter(page, fe, `DstPort = ${f.port} AND SrcPd = "x"`, 'SrcPd', `DstPort = ${f.port} AND `.length + 1) // columns count from 1
  })

  await step('the interfaces table sorts by name both ways and finds the collector\'s port', async () => {
    await page.goto(url('/interfaces', { from: f.from, to: f.to, sort: 'name', dir: 'asc' }))
    const names = () => page.locator('[data-testid=interfaces-table] tbody tr td:nth-child(2)').allInnerTexts()
    await page.locator('[data-testid=interfaces-table] tbody tr').nth(1).waitFor()
    const asc = await names()
    check(asc.includes(f.iface), `the collector's bridge port ${f.iface} among ${JSON.stringify(asc)}`)
    check(JSON.stringify(asc) === JSON.stringify([...asc].sort()), 'ascending by name: ' + JSON.stringify(asc))
    await fits(page, 'interfaces')
    await page.getByRole('button', { name: /^interface/ }).click()
    await page.waitForURL((u) => u.searchParams.get('sort') === 'name' && !u.searchParams.has('dir')) // desc is the default
    check(JSON.stringify(await names()) === JSON.stringify([...asc].reverse()), 'descending by name: ' + JSON.stringify(await names()))
    await page.locator('input[name=search]').fill(f.iface)
    await page.waitForURL(/search=/)
    check(JSON.stringify(await names()) === JSON.stringify([f.iface]), 'filtered to the port: ' + JSON.stringify(await names()))
  })

  await step('the status page names the exporter, the device and the agent of the node', async () => {
    await page.goto(url('/status', { since: '1h' }))
    const status = page.locator('[data-testid=status]')
    await status.waitFor()
    const t = await status.innerText()
    for (const want of [f.exporter, f.node]) check(t.includes(want), `status names ${want}: ${t}`)
    const agent = await page.locator('section[aria-label=Agents] tbody tr').first().innerText()
    check(agent.startsWith(`${f.node}\t${f.strategy}`), `the agent of ${f.node} with its strategy ${f.strategy}: ${agent}`)
    await fits(page, 'standalone-status')
    await shot(page, f.screenshots, 'standalone-status')
  })

  check(errors.length === 0, 'no errors in the browser console: ' + JSON.stringify(errors))
  console.log('ok  no errors in the browser console')
} finally {
  await context.close()
}
