import type { FastifyRequest } from 'fastify'
import { describe, expect, it } from 'vitest'
import { clientOf } from '../src/clients/client-identity.js'

const request = (ip: string, authorization?: string) => ({ ip, headers: authorization === undefined ? {} : { authorization } }) as unknown as FastifyRequest

describe('the client a compute request is for', () => {
  it('is its address without API keys; an IPv6 address by its /64', () => {
    expect(clientOf(request('10.1.2.3'), false)).toBe('ip:10.1.2.3')
    expect(clientOf(request('2001:db8:0:12:aaaa::1'), false)).toBe('ip:2001:db8:0:12::/64')
    expect(clientOf(request('2001:db8::12:1'), false)).toBe(clientOf(request('2001:0db8:0000:0000:0:0:12:2'), false))
    expect(clientOf(request('::1'), false)).toBe('ip:0:0:0:0::/64')
    expect(clientOf(request('::ffff:10.1.2.3'), false)).toBe('ip:::ffff:10.1.2.3')
  })

  it('is a digest of its API key when keys are required, never the key, whatever the address', () => {
    const one = clientOf(request('10.0.0.1', 'Bearer alpha-key-0123456789abcdef'), true)
    expect(one).toMatch(/^key:[\w-]{22}$/)
    expect(one).not.toContain('alpha')
    expect(clientOf(request('10.0.0.2', 'Bearer alpha-key-0123456789abcdef'), true)).toBe(one)
    expect(clientOf(request('10.0.0.1', 'Bearer bravo-key-0123456789abcdef'), true)).not.toBe(one)
  })
})
