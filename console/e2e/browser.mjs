// The console's end-to-end checks in the system's headless Chromium,
// driven by the Go test api.TestConsoleInBrowserShowsTheInvestigationAndItsViews,
// which starts the API over a seeded scenario and passes its facts in
// NETSTRATA_E2E. Each check throws on the first thing that does not hold;
// any error in the browser's console fails the run.
import path from 'node:path'
import { facts as f, launch, watch as watchInto, check, step, shot as shotInto, unlabelled as unlabelledOn, drawn, filterEditor, sankeyLinks, badFilter, fits } from './lib.mjs'

const context = await launch()
const errors = []
const watch = (p) => watchInto(p, errors)
const page = watch(context.pages()[0] ?? (await context.newPage()))
const shot = (name) => shotInto(page, f.screenshots, name)
const unlabelled = (p = page) => unlabelledOn(p)
const text = (sel) => page.locator(sel).first().innerText()
const url = (p, q) => f.base + p + (q ? '?' + new URLSearchParams(q).toString() : '')
const investigateURL = url('/', { node: f.node, from: f.from, to: f.to })

try {
  await step('investigate shows the spike window, the port and the pods', async () => {
    const asked = []
    const seen = (r) => new URL(r.url()).pathname.startsWith('/api/v1/') && asked.push(new URL(r.url()).pathname)
    page.on('request', seen)
    await page.goto(investigateURL)
    const ms = await drawn(page)
    page.off('request', seen)
    check(JSON.stringify(asked) === '["/api/v1/investigate"]', 'one request: the chart\'s series and the sessions come with the investigation: ' + JSON.stringify(asked))
    const heading = await text('section[aria-label="Interface traffic"] h2')
    check(heading.includes(`${f.device} #${f.ifIndex}`), 'chart of the path\'s busiest interface: ' + heading)
    console.log(`figure: investigate page drawn in ${Math.round(ms)} ms after navigation (loopback)`)
    const windows = await text('[data-testid=windows]')
    check(windows.includes('spike ' + f.spikeStart) && windows.includes(f.spikeEnd), `spike window ${f.spikeStart}–${f.spikeEnd} in ${JSON.stringify(windows)}`)
    const verdict = await text('[data-testid=verdict]')
    check(verdict.includes(':' + f.port) && verdict.includes(f.node), 'verdict names the port and node: ' + verdict)
    const ports = await text('section[aria-label=Ports] tbody tr')
    check(ports.startsWith(':' + f.port), 'first port ' + ports)
    const pods = await text('section[aria-label=Pods] tbody')
    for (const p of f.pods) check(pods.includes(p), `pod ${p} among contributors: ${pods}`)
    const health = await text('section[aria-label="Session health"] thead')
    check(health.includes('RTT p50') && health.includes('RTT p95'), 'session health with RTT p50 and p95: ' + health)
    await fits(page, 'investigate')
    await shot('investigate')
    check((await unlabelled()).length === 0, 'every control labelled: ' + JSON.stringify(await unlabelled()))
  })

  await step('investigating an interface asks for its series with the investigation, once', async () => {
    const asked = []
    const seen = (r) => new URL(r.url()).pathname.startsWith('/api/v1/') && asked.push(new URL(r.url()).pathname)
    page.on('request', seen)
    await page.goto(url('/', { kind: 'interface', device: f.device, if_index: f.ifIndex, from: f.from, to: f.to }))
    await drawn(page, 1)
    page.off('request', seen)
    const heading = await text('section[aria-label="Interface traffic"] h2')
    check(heading.includes(`${f.device} #${f.ifIndex}`), 'chart of the subject interface: ' + heading)
    check(asked.filter((p) => p === '/api/v1/interfaces/series').length === 1 && !asked.includes('/api/v1/sockets'), 'requests ' + JSON.stringify(asked))
    await page.goto(investigateURL)
    await drawn(page)
  })

  await step('the keyboard reaches the skip link, the pages and the form', async () => {
    await page.evaluate(() => document.activeElement?.blur())
    await page.keyboard.press('Tab')
    check((await page.evaluate(() => document.activeElement?.textContent)) === 'Skip to content', 'first Tab on the skip link')
    const order = []
    for (let i = 0; i < 9; i++) {
      await page.keyboard.press('Tab')
      order.push(await page.evaluate(() => document.activeElement?.getAttribute('name') || document.activeElement?.textContent?.trim()))
    }
    check(JSON.stringify(order.slice(0, 7)) === JSON.stringify(['netstrata', 'Investigate', 'Explore', 'Interfaces', 'Traffic map', 'Alerts', 'Status']) && order.includes('kind'),
      'tab order ' + JSON.stringify(order))
  })

  await step('dark theme follows the system', async () => {
    const dark = watch(await context.newPage())
    await dark.emulateMedia({ colorScheme: 'dark' })
    await dark.setViewportSize({ width: 1440, height: 900 })
    await dark.goto(page.url())
    await drawn(dark)
    const bg = await dark.evaluate(() => getComputedStyle(document.body.parentElement).backgroundColor)
    check(bg === 'rgb(20, 24, 29)', 'dark background ' + bg)
    await dark.screenshot({ path: path.join(f.screenshots, 'investigate-dark.png') })
    await dark.close()
  })

  await step('the Sankey has source pods, the port and the destination', async () => {
    const links = await sankeyLinks(page)
    await fits(page, 'investigate with the Sankey as a table')
    for (const p of f.pods) check(links.includes(`${p} → :${f.port}`), `link ${p} → :${f.port} in ${JSON.stringify(links)}`)
    check(links.some((l) => l.startsWith(`:${f.port} → shop/api-0`)), `link :${f.port} → shop/api-0 in ${JSON.stringify(links)}`)
  })

  await step('a shared URL reopens the same view', async () => {
    const other = watch(await context.newPage())
    await other.goto(page.url())
    await drawn(other)
    check((await other.locator('[data-testid=verdict]').innerText()) === (await text('[data-testid=verdict]')), 'same verdict in a new tab')
    check((await other.locator('select[name=kind]').inputValue()) === 'node' && (await other.locator('input[name=node]').inputValue()) === f.node, 'same subject in the form')
    await other.close()
  })

  await step('brushing the chart narrows the range in the URL; back returns', async () => {
    const before = page.url()
    const chart = page.locator('main canvas').first()
    await chart.scrollIntoViewIfNeeded()
    const box = await chart.boundingBox()
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 8 })
    await page.mouse.up()
    await page.waitForURL((u) => u.toString() !== before)
    const q = new URL(page.url()).searchParams
    check(q.get('from') > f.from && q.get('to') < f.to, `brushed range ${q.get('from')}–${q.get('to')} inside ${f.from}–${f.to}`)
    await page.goBack()
    await page.waitForURL(before)
    await drawn(page)
  })

  await step('the unit is in the URL and only redraws', async () => {
    let investigations = 0
    const count = (r) => r.url().includes('/api/v1/investigate') && investigations++
    page.on('request', count)
    await page.getByRole('button', { name: 'packets/s' }).click()
    await page.waitForURL(/unit=pps/)
    await page.locator('main .chart[data-drawn]').first().waitFor()
    page.off('request', count)
    check(investigations === 0, 'no new investigation for a unit: ' + investigations)
    await page.getByRole('button', { name: 'bits/s' }).click()
    await page.waitForURL((u) => !u.searchParams.has('unit'))
  })

  await step('a contributor links into Explore with its filter', async () => {
    await page.locator('section[aria-label=Ports] tbody a').first().click()
    await page.waitForURL(/\/explore/)
    const q = new URL(page.url()).searchParams
    check(q.get('filter') === 'DstPort = ' + f.port, 'filter ' + q.get('filter'))
    await page.goBack()
    await page.waitForURL((u) => u.pathname === '/' && u.searchParams.get('node') === f.node && u.searchParams.get('from') === f.from)
    await drawn(page)
  })

  const exploreURL = url('/explore', { filter: 'DstPort = ' + f.port, by: 'src_pod', from: f.from, to: f.to })
  await step('explore ranks the pods under a filter, over time and in a table', async () => {
    await page.goto(exploreURL)
    await page.locator('[data-testid=explore-table] tbody tr').nth(4).waitFor()
    const rows = await page.locator('[data-testid=explore-table] tbody tr').allInnerTexts()
    for (const p of f.pods) check(rows.some((r) => r.startsWith(p) && r.includes('25%')), `row ${p} with 25% in ${JSON.stringify(rows)}`)
    await page.locator('main canvas').first().waitFor()
    await fits(page, 'explore')
    await shot('explore')
  })

  const fe = filterEditor(page)
  const { editor, options } = fe
  const typeFilter = fe.type

  await step('filter completion offers dimension names and values', async () => {
    await typeFilter('Src')
    await options.first().waitFor()
    const dims = await options.allInnerTexts()
    check(dims.some((o) => o.startsWith('SrcPod')) && dims.some((o) => o.startsWith('SrcIP')), 'dimensions offered: ' + JSON.stringify(dims))
    await page.keyboard.press('Escape')
    await typeFilter('SrcPod = fr')
    await page.waitForFunction(() => [...document.querySelectorAll('.cm-tooltip-autocomplete li')].some((li) => li.textContent.startsWith('frontend-0')))
    const values = await options.allInnerTexts()
    for (const p of f.pods) check(values.some((o) => o.startsWith(p.split('/')[1])), `value ${p} offered: ${JSON.stringify(values)}`)
    await options.filter({ hasText: 'frontend-2' }).click()
    const text = await editor.innerText()
    check(text === 'SrcPod = frontend-2 ', 'completed text ' + JSON.stringify(text))
    await page.keyboard.press('Escape')
  })

  await step('a bad filter shows its error at its place', async () => {
    await badFilter(page, fe, 'SrcPod = "a" AND DstPrt = 80', 'DstPrt', 18) // columns count from 1
  })

  await step('two dimensions draw a Sankey; CSV export has the rows', async () => {
    await page.goto(url('/explore', { filter: 'DstPort = ' + f.port, by: 'src_pod,dst_pod', from: f.from, to: f.to }))
    await page.locator('[data-testid=explore-table] tbody tr').nth(4).waitFor()
    await page.waitForFunction(() => document.querySelectorAll('main canvas').length >= 2)
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()])
    const body = await new Promise((resolve, reject) => {
      download.createReadStream().then((s) => {
        let b = ''
        s.on('data', (c) => (b += c))
        s.on('end', () => resolve(b))
        s.on('error', reject)
      }, reject)
    })
    const lines = body.trim().split('\r\n')
    check(lines[0] === 'src_pod,dst_pod,bytes,packets,flows,bps,share', 'CSV header ' + lines[0])
    for (const p of f.pods) check(lines.some((l) => l.startsWith(`${p},shop/api-0,`)), `CSV row ${p}: ${JSON.stringify(lines)}`)
    await fits(page, 'explore-sankey')
    await shot('explore-sankey')
  })

  await step('the interfaces table sorts, the order in the URL', async () => {
    await page.goto(url('/interfaces', { from: f.from, to: f.to }))
    const names = () => page.locator('[data-testid=interfaces-table] tbody tr td:nth-child(2)').allInnerTexts()
    await page.locator('[data-testid=interfaces-table] tbody tr').nth(1).waitFor()
    check(JSON.stringify(await names()) === '["Gi0/3","Gi0/7"]', 'by in rate, largest first: ' + JSON.stringify(await names()))
    await page.locator('svg.spark path').first().waitFor()
    await fits(page, 'interfaces')
    await shot('interfaces')
    await page.getByRole('button', { name: /^out/ }).click()
    await page.waitForURL(/sort=out_bps/)
    check(JSON.stringify(await names()) === '["Gi0/7","Gi0/3"]', 'by out rate, largest first: ' + JSON.stringify(await names()))
    await page.getByRole('button', { name: /^interface/ }).click()
    await page.waitForURL(/sort=name/)
    check(new URL(page.url()).searchParams.get('dir') === 'asc' && JSON.stringify(await names()) === '["Gi0/3","Gi0/7"]', 'by name ascending: ' + JSON.stringify(await names()))
    await page.getByRole('button', { name: /^interface/ }).click()
    await page.waitForURL((u) => u.searchParams.get('sort') === 'name' && !u.searchParams.has('dir')) // desc is the default
    check(JSON.stringify(await names()) === '["Gi0/7","Gi0/3"]', 'by name descending: ' + JSON.stringify(await names()))
    check((await page.locator('th[aria-sort=descending]').innerText()).startsWith('interface'), 'aria-sort on the sorted column')
    await page.locator('input[name=search]').fill('Gi0/7')
    await page.waitForURL(/search=Gi0/)
    check(JSON.stringify(await names()) === '["Gi0/7"]', 'filtered: ' + JSON.stringify(await names()))
  })

  await step('an interface page shows its series, top flows and reconciliation', async () => {
    await page.goto(url('/interfaces', { from: f.from, to: f.to }))
    await page.getByRole('link', { name: 'Gi0/3' }).click()
    await page.waitForURL(/\/interfaces\/sw1\/3/)
    await page.locator('[data-testid=interface-flows] tbody tr').first().waitFor()
    await page.locator('[data-testid=interface-reconciliation] tbody tr').first().waitFor()
    await page.locator('main canvas').first().waitFor()
    const flows = await page.locator('[data-testid=interface-flows] tbody').innerText()
    check(flows.includes('10.1.2.9'), 'top conversations name the API pod address: ' + flows)
    await fits(page, 'interface')
    await shot('interface')
  })

  await step('the traffic map draws who sends to whom and filters by port', async () => {
    await page.goto(url('/map', { from: f.from, to: f.to }))
    await page.locator('main canvas').first().waitFor()
    await page.waitForTimeout(1500) // let the force layout settle for the picture
    await fits(page, 'map')
    await shot('map')
    await page.locator('details summary', { hasText: 'Edges as a table' }).click()
    await page.locator('[data-testid=map-edges] tbody tr').first().waitFor()
    await fits(page, 'the traffic map with its edges table')
    const edges = await page.locator('[data-testid=map-edges] tbody tr').allInnerTexts()
    for (const p of f.pods) check(edges.some((e) => e.startsWith(`${p}\tshop/api-0\t${f.port}`)), `edge ${p} → shop/api-0 :${f.port} in ${JSON.stringify(edges)}`)
    await page.locator('input[name=port]').fill('5432')
    await page.getByRole('button', { name: 'Apply', exact: true }).first().click()
    await page.waitForURL(/port=5432/)
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=map-edges] tbody tr')].every((r) => r.innerText.includes('5432')))
    const filtered = await page.locator('[data-testid=map-edges] tbody tr').allInnerTexts()
    check(filtered.length === 1 && filtered[0].startsWith('shop/orders-0'), 'port 5432 only: ' + JSON.stringify(filtered))
  })

  await step('the status page names each layer with its sources', async () => {
    await page.goto(url('/status', { since: '6h' }))
    const status = page.locator('[data-testid=status]')
    await status.waitFor()
    const t = await status.innerText()
    for (const want of ['10.0.0.1', 'sw1', f.node, 'clickhouse', 'netstrata.flows.v1']) check(t.includes(want), `status names ${want}: ${t}`)
    const agent = await page.locator('section[aria-label=Agents] tbody tr').first().innerText()
    check(agent.startsWith(f.node + '\ttcp_iter'), 'the agent of the node with its strategy: ' + agent)
    const lost = await page.locator('[data-testid=exporter-lost]').first().innerText()
    check(lost === String(f.exporterLost), `the exporter's stored sequence loss: ${lost}, want ${f.exporterLost}`)
    check((await page.locator('[data-testid=exporter-drops]').innerText()).includes('netstrata_flow_records_dropped_total'), 'says where the collector\'s own drops are counted')
    await fits(page, 'status')
    await shot('status')
  })

  await step('the alerts page lists the firing alert with its verdict and opens its investigation', async () => {
    await page.goto(url('/alerts', { from: f.from, to: f.to }))
    const firing = page.locator('[data-testid=alerts-firing] tbody tr')
    await firing.first().waitFor()
    const row = await firing.first().innerText()
    for (const want of ['NodeTrafficSpike', 'warning', 'node=' + f.node, 'firing', ':' + f.port, '8081 (97%)', 'shop/frontend-0']) check(row.includes(want), `firing alert shows ${want}: ${row}`)
    check((await page.locator('[data-testid=alerts-history] tbody tr').count()) === 1, 'the firing transition in the history')
    check((await unlabelled()).length === 0, 'every control labelled: ' + JSON.stringify(await unlabelled()))
    await fits(page, 'alerts')
    await shot('alerts')
    await page.getByRole('link', { name: /^Investigate NodeTrafficSpike/ }).first().click()
    await drawn(page)
    const want = new URL(f.alertURL)
    const got = new URL(page.url())
    for (const k of ['node', 'from', 'to']) check(got.searchParams.get(k) === want.searchParams.get(k), `investigate ${k} from the alert link: ${page.url()}`)
    await page.goBack()
    await page.locator('[data-testid=alerts-firing] tbody tr').first().waitFor()
  })

  await step('a guarded API: the token is asked once, kept for the session, never in the URL', async () => {
    const guarded = await context.newPage()
    const own = [] // the refused requests before the token are expected 401s
    guarded.on('console', (m) => m.type() === 'error' && !m.text().includes('401') && own.push(m.text()))
    guarded.on('pageerror', (e) => own.push(e.message))
    await guarded.goto(f.guarded + '/status?since=6h')
    await guarded.locator('[role=dialog] input[name=token]').fill(f.token)
    await guarded.keyboard.press('Enter')
    await guarded.locator('[data-testid=status]').waitFor()
    check(!guarded.url().includes(f.token), 'token not in the URL')
    check((await guarded.evaluate(() => sessionStorage.getItem('netstrata.token'))) === f.token, 'token in sessionStorage')
    check((await guarded.evaluate(() => localStorage.length)) === 0, 'nothing in localStorage')
    await guarded.getByRole('link', { name: 'Interfaces' }).click()
    await guarded.locator('[data-testid=interfaces-table] tbody tr').first().waitFor()
    check((await guarded.locator('[role=dialog]').count()) === 0, 'asked once')
    check(own.length === 0, 'no other errors: ' + JSON.stringify(own))
    await guarded.close()
  })

  check(errors.length === 0, 'no errors in the browser console: ' + JSON.stringify(errors))
  console.log('ok  no errors in the browser console')
} finally {
  await context.close()
}
