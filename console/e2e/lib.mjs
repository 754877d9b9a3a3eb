// What the console's browser scripts share: the system's headless
// Chromium (no sandbox as root, no background networking: the machine
// has no internet), checks that throw, named steps, screenshots, and the
// waits for a drawn page. Each script reads its facts from NETSTRATA_E2E,
// set by the Go test that started the API.
import { chromium } from 'playwright-core'
import path from 'node:path'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'

export const facts = JSON.parse(process.env.NETSTRATA_E2E ?? '{}')

export async function launch(f = facts) {
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  return chromium.launchPersistentContext(mkdtempSync(path.join(os.tmpdir(), 'netstrata-chromium-')), {
    executablePath: f.chromium,
    headless: true,
    args,
    viewport: { width: 1440, height: 900 },
    colorScheme: 'light',
  })
}

// watch collects the page's console errors and uncaught exceptions into errors.
export function watch(page, errors) {
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
  page.on('pageerror', (e) => errors.push(e.message))
  return page
}

export function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what)
}

export async function step(name, fn) {
  const began = Date.now()
  await fn()
  console.log(`ok  ${name} (${Date.now() - began} ms)`)
}

export async function shot(page, dir, name) {
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.screenshot({ path: path.join(dir, name + '.png') })
}

// unlabelled lists the controls of the page without an accessible name.
export async function unlabelled(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('main input, main select, main button, header a, main [contenteditable]')]
      .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.textContent.trim()))
      .map((el) => el.outerHTML.slice(0, 80)),
  )
}

// drawn waits until the investigation and its charts (at least charts
// of them) are on the page, and returns the milliseconds since navigation
// started.
export async function drawn(page, charts = 2) {
  await page.locator('[data-testid=verdict]').waitFor()
  await page.waitForFunction((n) => document.querySelectorAll('main .chart[data-drawn]').length >= n && !document.querySelector('[role=status]'), charts)
  return page.evaluate(() => performance.now())
}

// filterEditor types into the Explore page's filter editor, replacing
// what was there.
export function filterEditor(page) {
  const editor = page.locator('[data-testid=filter-input]')
  return {
    editor,
    options: page.locator('.cm-tooltip-autocomplete li'),
    async type(text) {
      await editor.click()
      await page.keyboard.press('Control+A')
      await page.keyboard.press('Delete')
      await page.keyboard.type(text, { delay: 15 })
    },
  }
}

// sankeyLinks opens the investigate page's Sankey as a table and returns
// its links as "from → to".
export async function sankeyLinks(page) {
  await page.locator('details summary', { hasText: 'As a table' }).click()
  await page.locator('[data-testid=sankey-table]').waitFor()
  const rows = await page.locator('[data-testid=sankey-table] tbody tr').allInnerTexts()
  return rows.map((r) => r.split('\t').slice(0, 2).join(' → '))
}

// badFilter types a filter with an unknown dimension at offset at and
// checks the editor marks it there and applying it shows why.
export async function badFilter(page, fe, text, dim, at) {
  await fe.type(text)
  await page.keyboard.press('Escape')
  const mark = page.locator('.cm-lintRange-error')
  await mark.waitFor()
  check((await mark.innerText()) === dim, 'error marked on ' + JSON.stringify(await mark.innerText()))
  const problem = await page.locator('[data-testid=filter-problem]').first().innerText()
  check(problem.includes('unknown dimension') && problem.includes('at ' + at), 'error message ' + JSON.stringify(problem))
  await page.keyboard.press('Enter')
  await page.locator('[data-testid=explore-error]').waitFor()
  check((await page.locator('[data-testid=explore-error]').first().innerText()).includes(dim), 'applying it says why, not a result')
}

// overflowing lists the page's shown tables that are wider than their
// card (the .panel, section or main around them), so a column would be
// cut or need a scroll bar: "card heading: table width > room".
export async function overflowing(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('main table')]
      .filter((t) => t.getClientRects().length > 0)
      .flatMap((t) => {
        const card = t.closest('.panel') ?? t.closest('section') ?? document.querySelector('main')
        const cs = getComputedStyle(card)
        const room = card.getBoundingClientRect().right - parseFloat(cs.borderRightWidth) - parseFloat(cs.paddingRight)
        const right = t.getBoundingClientRect().right
        const name = card.getAttribute('aria-label') || card.querySelector('h1, h2, h3')?.textContent?.trim() || card.tagName
        return right > room + 1 ? [`${name}: table ends at ${Math.round(right)} px, card at ${Math.round(room)} px`] : []
      }),
  )
}

// fits checks that no table of the page overflows its card.
export async function fits(page, what) {
  const over = await overflowing(page)
  check(over.length === 0, `tables of ${what} fit their cards at ${page.viewportSize()?.width} px: ${JSON.stringify(over)}`)
}
