import type { Attack } from '../hostile-attacks.js'

/** What one client can hold: connections (issue 17). */
export const attacks: Attack[] = []
