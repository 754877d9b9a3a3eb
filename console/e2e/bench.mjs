// Figures of the console in the system's headless Chromium, driven by
// api.BenchmarkConsole (over the benchmark's 24 hours of flows and
// sockets): how long the investigate page takes to be fully drawn, and
// how smooth a flow chart of 10,000 points stays while the pointer moves
// over it. Prints "figure:" lines; asserts nothing about time.
import { chromium } from 'playwright-core'
import path from 'node:path'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'

const f = JSON.parse(process.env.NETSTRATA_E2E ?? '{}')
const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const context = await chromium.launchPersistentContext(mkdtempSync(path.join(os.tmpdir(), 'netstrata-chromium-')), {
  executablePath: f.chromium, headless: true, args, viewport: { width: 1440, height: 900 },
})
const page = context.pages()[0] ?? (await context.newPage())
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// timings runs in the page once it is fully drawn: when the app sent its
// first API request, when the last API answer ended, and when the last
// chart (its first render's finished event) or the page's tables (the
// investigate-rendered mark) were drawn — a console without these marks
// is timed now. Milliseconds from navigation.
function timings() {
  const api = performance.getEntriesByType('resource').filter((e) => new URL(e.name).pathname.startsWith('/api/'))
  const marks = [...document.querySelectorAll('.chart')].map((c) => Number(c.getAttribute('data-drawn')))
  marks.push(...performance.getEntriesByName('investigate-rendered').map((e) => e.startTime))
  const drawn = marks.every((t) => t > 0) && marks.length > 0 ? Math.max(...marks) : performance.now()
  const start = Math.min(...api.map((e) => e.startTime))
  const answered = Math.max(...api.map((e) => e.responseEnd))
  const inv = api.find((e) => new URL(e.name).pathname === '/api/v1/investigate')
  return { start, answered, drawn, draw: drawn - answered, investigate: inv ? inv.responseEnd - inv.startTime : NaN }
}
try {
  // Each console (the built one, and a base one to compare with when the
  // benchmark gives it) in turn, so that both see the same load.
  const consoles = [{ name: '', base: f.base }, ...(f.compare ? [{ name: 'base console (NETSTRATA_BENCH_CONSOLE_BASE): ', base: f.compare }] : [])]
  const runs = consoles.map(() => [])
  for (let i = 0; i < f.runs; i++) {
    for (const [k, c] of consoles.entries()) {
      await page.goto(c.base + '/?' + new URLSearchParams({ node: f.node, from: f.from, to: f.to }))
      await page.locator('[data-testid=verdict]').waitFor({ timeout: 120000 })
      await page.waitForFunction(() => document.querySelector('[data-testid=verdict]') && !document.querySelector('[role=status]') && [...document.querySelectorAll('.chart')].every((c) => c.hasAttribute('data-drawn')), null, { timeout: 120000 })
      runs[k].push(await page.evaluate(timings))
    }
  }
  const timeline = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => `${e.name.replace(location.origin, '').split('?')[0]} ${Math.round(e.startTime)}–${Math.round(e.responseEnd)}`),
  )
  console.log(`last run${consoles.length > 1 ? ' (base console)' : ''}: ` + timeline.join('; '))
  for (const [k, c] of consoles.entries()) {
    const m = (part) => Math.round(median(runs[k].map((r) => r[part])))
    console.log(`figure: ${c.name}investigate page fully drawn, median of ${f.runs}: ${m('drawn')} ms (all: ${runs[k].map((r) => Math.round(r.drawn)).join(', ')} ms); ` +
      `app started ${m('start')} ms, requests answered ${m('answered')} ms, drawing ${m('draw')} ms (medians from navigation; drawing: last answer to drawn); /investigate request ${m('investigate')} ms`)
  }

  // 14 series × 720 two-minute steps over 24 hours: 10,080 points.
  await page.goto(f.base + '/explore?' + new URLSearchParams({ by: 'conversation', from: f.from, to: f.to, limit: '14', points: '1000' }))
  await page.locator('[data-testid=explore-table] tbody tr').first().waitFor({ timeout: 120000 })
  const canvas = page.locator('main canvas').first()
  await canvas.waitFor()
  const series = await page.evaluate(() => document.querySelectorAll('[data-testid=explore-table] tbody tr').length - 1)
  const steps = await page.evaluate(() => document.querySelector('main')?.innerText.match(/step (\d+) s/)?.[1])
  const box = await canvas.boundingBox()
  await page.evaluate(() => {
    window.__frames = []
    let last = performance.now()
    const tick = (t) => {
      window.__frames.push(t - last)
      last = t
      if (window.__frames.length < 400) requestAnimationFrame(tick)
    }
    requestAnimationFrame(tick)
  })
  for (let x = 0; x < 200; x++) await page.mouse.move(box.x + (box.width * x) / 200, box.y + box.height / 2)
  const frames = await page.evaluate(() => window.__frames.slice(1))
  const sorted = [...frames].sort((a, b) => a - b)
  console.log(`figure: Explore chart, ${series} series of ${f.span / Number(steps)} steps of ${steps} s (${(series * f.span) / Number(steps)} points), pointer sweeping: frame time median ${median(frames).toFixed(1)} ms, p95 ${sorted[Math.floor(sorted.length * 0.95)].toFixed(1)} ms over ${frames.length} frames`)
} finally {
  await context.close()
}
