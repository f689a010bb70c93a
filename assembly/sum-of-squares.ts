// AssemblyScript, compiled to dist/assembly/sum-of-squares.wasm by `npm run build` (asc, SIMD on).
// The block kernel of src/compute/sum-of-squares-wasm.ts: the same sums as sumBlock in
// src/compute/sum-of-squares.ts, four lanes at a time. Integer lanes, so every sum is exact.

/** Sum of l over the last block; read by the caller after sumBlock returns. */
export let blockSumL: f64 = 0

/**
 * Sum of l*l for l = first .. first + count - 1, with first + count <= 2^17; the sum of l goes to
 * blockSumL. Both fit a float64 exactly (below 2^51 and 2^34). Per lane, the sum of l stays below
 * 2^32 (2^14 steps of two values under 2^17), so it adds in u32 and widens once at the end;
 * squares (below 2^34) widen on multiply (extmul) into u64 lanes.
 */
export function sumBlock (first: u32, count: u32): f64 {
  let v0 = i32x4(first, first + 1, first + 2, first + 3)
  let v1 = i32x4.add(v0, i32x4.splat(4))
  const step = i32x4.splat(8)
  let sums = i32x4.splat(0)
  let q0 = i64x2.splat(0)
  let q1 = i64x2.splat(0)
  let q2 = i64x2.splat(0)
  let q3 = i64x2.splat(0)
  const octets = count >> 3
  for (let i: u32 = 0; i < octets; i++) {
    q0 = i64x2.add(q0, i64x2.extmul_low_i32x4_u(v0, v0))
    q1 = i64x2.add(q1, i64x2.extmul_high_i32x4_u(v0, v0))
    q2 = i64x2.add(q2, i64x2.extmul_low_i32x4_u(v1, v1))
    q3 = i64x2.add(q3, i64x2.extmul_high_i32x4_u(v1, v1))
    sums = i32x4.add(sums, i32x4.add(v0, v1))
    v0 = i32x4.add(v0, step)
    v1 = i32x4.add(v1, step)
  }
  const squares = i64x2.add(i64x2.add(q0, q1), i64x2.add(q2, q3))
  const wide = i64x2.add(i64x2.extend_low_i32x4_u(sums), i64x2.extend_high_i32x4_u(sums))
  let sumL2: u64 = i64x2.extract_lane(squares, 0) + i64x2.extract_lane(squares, 1)
  let sumL: u64 = i64x2.extract_lane(wide, 0) + i64x2.extract_lane(wide, 1)
  // The last count % 8 values, one at a time.
  for (let l: u64 = <u64>first + (<u64>octets << 3), stop = <u64>first + <u64>count; l < stop; l++) {
    sumL += l
    sumL2 += l * l
  }
  blockSumL = <f64>sumL
  return <f64>sumL2
}
