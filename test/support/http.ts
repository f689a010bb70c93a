export const json = { 'content-type': 'application/json' }

export interface Reply {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

/** POSTs JSON and reads the JSON answer. */
export async function postJson (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await fetch(url, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) })
  return { status: response.status, headers: response.headers, body: await response.json() as Record<string, unknown> }
}

export async function getJson (url: string): Promise<Record<string, unknown>> {
  return await (await fetch(url)).json() as Record<string, unknown>
}
