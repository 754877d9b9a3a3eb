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
try {
  const drawn = []
  for (let i = 0; i < f.runs; i++) {
    await page.goto(f.base + '/?' + new URLSearchParams({ node: f.node, from: f.from, to: f.to }))
    await page.locator('[data-testid=verdict]').waitFor({ timeout: 120000 })
    await page.waitForFunction(() => document.querySelector('[data-testid=verdict]') && !document.querySelector('[role=status]') && [...document.querySelectorAll('.chart')].every((c) => c.hasAttribute('data-drawn')), null, { timeout: 120000 })
    drawn.push(await page.evaluate(() => performance.now()))
  }
  const timeline = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => `${e.name.replace(location.origin, '').split('?')[0]} ${Math.round(e.startTime)}–${Math.round(e.responseEnd)}`),
  )
  console.log('last run: ' + timeline.join('; '))
  console.log(`figure: investigate page fully drawn, median of ${f.runs}: ${Math.round(median(drawn))} ms (all: ${drawn.map(Math.round).join(', ')} ms)`)

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
