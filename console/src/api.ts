import { reactive } from 'vue'

// The API is on the same origin. When it requires a token, the console
// asks once and keeps it in sessionStorage for the browser session: never
// in the URL, never in localStorage.
const tokenKey = 'netstrata.token'

export const auth = reactive({
  needed: false, // a request was refused: ask for a token
  version: 0, // bumped when a token is given, so that pages reload
})

export function setToken(t: string) {
  sessionStorage.setItem(tokenKey, t.trim())
  auth.needed = false
  auth.version++
}

export class APIError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly parameter?: string,
  ) {
    super(message)
  }
}

// get calls an API path with parameters (empty ones dropped) and decodes
// its JSON; a 401 asks for the token.
export async function get<T>(path: string, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
  const sp = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== '') sp.set(k, String(v))
  }
  const headers: Record<string, string> = { Accept: 'application/json' }
  const token = sessionStorage.getItem(tokenKey)
  if (token) headers.Authorization = 'Bearer ' + token
  const qs = sp.toString()
  const resp = await fetch('/api/v1/' + path + (qs ? '?' + qs : ''), { headers, signal })
  if (resp.status === 401) {
    auth.needed = true
    throw new APIError(401, 'the API needs a token')
  }
  const body = await resp.json().catch(() => null)
  if (!resp.ok) {
    const e = body?.error
    throw new APIError(resp.status, e?.message ?? resp.statusText, e?.parameter)
  }
  return body as T
}
