import type { Attack } from '../hostile-attacks.js'

/** What one client can hold: jobs (issue 17). */
export const attacks: Attack[] = []
