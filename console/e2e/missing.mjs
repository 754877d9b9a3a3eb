// The console's investigate page when layers are missing, driven by
// api.TestConsoleInBrowserNamesTheMissingLayers over the seed scenario
// stored without the agent's sockets and without SNMP: the page names
// both layers, says unknown wherever it needs them (never 0 or "none"),
// and still shows what the flows tell. Any error in the browser's console
// fails the run.
import { facts as f, launch, watch, check, step, shot, drawn, fits } from './lib.mjs'

const context = await launch()
const errors = []
const page = watch(context.pages()[0] ?? (await context.newPage()), errors)
const text = (sel) => page.locator(sel).first().innerText()

try {
  await step('the investigate page names the missing layers and says unknown, never 0', async () => {
    await page.goto(f.base + '/?' + new URLSearchParams({ node: f.node, from: f.from, to: f.to }))
    await drawn(page, 1) // the Sankey; no SNMP chart
    const missing = await text('[data-testid=missing]')
    for (const l of f.missing) check(missing.includes(l), `missing layer ${l} named: ${missing}`)
    const traffic = await text('section[aria-label="Interface traffic"]')
    check(traffic.includes('unknown: no SNMP data (snmp layer missing)'), 'interface traffic unknown without SNMP: ' + traffic)
    const processes = await text('section[aria-label=Processes]')
    check(processes.includes('unknown: no agent data (sockets layer missing)') && !processes.includes('none'), 'processes unknown without the agent: ' + processes)
    const health = await text('section[aria-label="Session health"]')
    check(health.includes('unknown: no agent data') && (await page.locator('section[aria-label="Session health"] table').count()) === 0, 'session health unknown, no table of zeros: ' + health)
    const path = await page.locator('section[aria-label="Interfaces on the path"] tbody tr').allInnerTexts()
    check(path.length > 0 && path.every((r) => r.split('\t')[2] === 'unknown' && r.split('\t')[3] === 'unknown'), 'path interfaces: utilisation and errors unknown: ' + JSON.stringify(path))
    // The flows still answer: the port and the pods.
    check((await text('section[aria-label=Ports] tbody tr')).startsWith(':' + f.port), 'first port from the flows')
    const pods = await text('section[aria-label=Pods] tbody')
    for (const p of f.pods) check(pods.includes(p), `pod ${p} among contributors from the flows: ${pods}`)
    await fits(page, 'investigate-missing-layers')
    await shot(page, f.screenshots, 'investigate-missing-layers')
  })
  check(errors.length === 0, 'no errors in the browser console: ' + JSON.stringify(errors))
  console.log('ok  no errors in the browser console')
} finally {
  await context.close()
}
