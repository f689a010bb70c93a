import type { Attack } from '../hostile-attacks.js'

/** What one client can hold: redis (issue 17). */
export const attacks: Attack[] = []
