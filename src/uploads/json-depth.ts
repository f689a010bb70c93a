/**
 * True when `text` nests arrays and objects deeper than `max`. One pass over the characters,
 * skipping strings: V8's JSON.parse needs ~0.5 s of event loop for 1 MiB nested 500,000 deep,
 * and no compute body nests more than three levels. Malformed text is left for JSON.parse to refuse.
 */
export function jsonDepthExceeds (text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) {
      inString = true
    } else if (c === 91 || c === 123) {
      if (++depth > max) return true
    } else if (c === 93 || c === 125) {
      depth--
    }
  }
  return false
}
