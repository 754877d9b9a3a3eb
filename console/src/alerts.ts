import { parseLocation, viewURL } from './state'

// What the Alerts page shows of an alert row from /api/v1/alerts.

export interface Alert {
  time: string; fingerprint: string; rule: string; kind: string; status: string
  starts_at: string; ends_at: string | null; value: number
  labels: Record<string, string>; annotations: Record<string, string>; generator_url: string; instance: string
}

// consoleHref is the alert's console link (the alerting component writes
// it with its configured console URL: /?node=…&from=…&to=…, or
// /alerts?rule=… for an alert without a subject) as a link into this
// console, whatever origin it was written with; '' when there is none.
export function consoleHref(generatorURL: string): string {
  if (!generatorURL) return ''
  let u: URL
  try {
    u = new URL(generatorURL, 'http://console.invalid')
  } catch {
    return ''
  }
  return viewURL(parseLocation(u.pathname, u.search))
}

// labelText lists the labels other than those shown in their own column
// (alertname is the rule, severity its own column), as "name=value".
export function labelText(labels: Record<string, string>): string {
  return Object.keys(labels)
    .filter((k) => k !== 'alertname' && k !== 'severity')
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(', ')
}

// verdictFields are the investigation's annotations the alerting
// component adds to a firing alert, in the order the page shows them.
const verdictFields: [string, string][] = [
  ['verdict', 'verdict'],
  ['top_ports', 'top ports'],
  ['top_pods', 'top pods'],
  ['top_processes', 'top processes'],
  ['session_health', 'session health'],
  ['spike_window', 'spike window'],
]

// verdict is the alert's verdict annotations present, as [title, text].
export function verdict(annotations: Record<string, string>): [string, string][] {
  return verdictFields.filter(([k]) => annotations[k]).map(([k, title]) => [title, annotations[k]])
}
