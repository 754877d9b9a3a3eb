import { shallowRef } from 'vue'
import { parseLocation, viewURL, type View, type Page } from './state'

// The current view, kept in step with the address bar.
export const view = shallowRef<View>(parseLocation(location.pathname, location.search))

window.addEventListener('popstate', () => {
  view.value = parseLocation(location.pathname, location.search)
})

// go shows a view and records it in the history (replace: without a new
// history entry, for refinements that should not pile up).
export function go(v: View, replace = false) {
  const url = viewURL(v)
  if (url !== location.pathname + location.search) {
    if (replace) history.replaceState(null, '', url)
    else history.pushState(null, '', url)
  }
  view.value = parseLocation(location.pathname, location.search)
}

// update changes some parameters of the current page.
export function update(patch: Record<string, string | undefined>, replace = false) {
  const q = { ...view.value.q }
  for (const [k, val] of Object.entries(patch)) {
    if (val === undefined || val === '') delete q[k]
    else q[k] = val
  }
  go({ page: view.value.page, q }, replace)
}

// href is the URL of a view, for links that open it.
export function href(page: Page, q: Record<string, string>): string {
  return viewURL({ page, q })
}

// follow handles a click on an in-app link without a reload, leaving
// modified clicks (new tab) to the browser.
export function follow(e: MouseEvent) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
  const a = (e.target as HTMLElement).closest('a')
  if (!a || a.origin !== location.origin || a.target) return
  e.preventDefault()
  go(parseLocation(a.pathname, a.search))
}
