import type { Attack } from '../hostile-attacks.js'

/** What one client can hold: proxy-and-deadlines (issue 17). */
export const attacks: Attack[] = []
