// Okabe–Ito: a palette that stays distinct under the common colour-vision
// deficiencies. Health is also spelled out in words, never colour alone.
export const palette = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999999']

export const health = { ok: '#0072B2', warn: '#E69F00', bad: '#D55E00' }

const dark = window.matchMedia?.('(prefers-color-scheme: dark)')

export function isDark(): boolean {
  return dark?.matches ?? false
}

// onThemeChange calls f when the system switches between light and dark.
export function onThemeChange(f: () => void): () => void {
  dark?.addEventListener('change', f)
  return () => dark?.removeEventListener('change', f)
}

export function textColor(): string {
  return isDark() ? '#d8dee9' : '#1f2933'
}
