export interface ServerSentEvent {
  event: string
  data: string
}

export interface EventStream {
  events: ServerSentEvent[]
  /** Comment lines (`: ...`), such as heartbeats. */
  comments: string[]
}

/**
 * Reads a text/event-stream response to its end, parsing each event (`event:` and `data:` lines,
 * a blank line between events); `onEvent` sees each one as it arrives.
 */
export async function readEventStream (response: Response, onEvent: (event: ServerSentEvent) => void = () => {}): Promise<EventStream> {
  const stream: EventStream = { events: [], comments: [] }
  const decoder = new TextDecoder()
  let buffer = ''
  const parse = (block: string) => {
    let event = 'message'
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) stream.comments.push(line.slice(1).trim())
      else if (line.startsWith('event:')) event = line.slice(6).trim()
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
    }
    if (data.length === 0) return
    const parsed = { event, data: data.join('\n') }
    stream.events.push(parsed)
    onEvent(parsed)
  }
  for await (const chunk of response.body!) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true })
    let end: number
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      parse(buffer.slice(0, end))
      buffer = buffer.slice(end + 2)
    }
  }
  if (buffer.trim() !== '') parse(buffer)
  return stream
}
