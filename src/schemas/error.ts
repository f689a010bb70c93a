import { z } from 'zod'

/** The one error shape every route answers with. */
export const errorBody = z.object({
  statusCode: z.int(),
  error: z.string(),
  message: z.string(),
  requestId: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional()
})

/** Error statuses every JSON compute route can answer with, for its response schema. */
export const errorResponses = {
  400: errorBody.describe('Malformed JSON or a body that fails validation; `issues` names each field'),
  413: errorBody.describe('Body over the size limit'),
  415: errorBody.describe('Content type other than application/json'),
  500: errorBody.describe('Internal failure; the message never carries internals'),
  503: errorBody.describe('Shutting down or overloaded; retry elsewhere or later')
}
