/**
 * The float64 QR behind `init.orthogonal_` (internal: not exported from the package).
 */

/**
 * The Q factor of PyTorch's orthogonal_ for a given rows × cols matrix of normals (row-major,
 * as drawn): transposed when rows < cols, QR-factored, columns multiplied by sign(diag(R)),
 * transposed back. Returns rows × cols values (row-major), unscaled. Exported for the tests.
 */
export function orthogonalFromNormal(normal: Float64Array, rows: number, cols: number): Float64Array {
  // A is m x n (m >= n), stored column-major so that every loop below runs over contiguous memory.
  // Wide: A = normal^T, whose column-major layout is normal's row-major one.
  const wide = rows < cols;
  const m = wide ? cols : rows;
  const n = wide ? rows : cols;
  let a: Float64Array;
  if (wide) {
    a = Float64Array.from(normal.subarray(0, m * n));
  } else {
    a = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[j * m + i] = normal[i * n + j];
  }
  const q = householderQ(a, m, n);
  // Wide: the result is Q^T (rows x cols row-major), i.e. Q's column-major layout.
  if (wide) return q;
  const out = new Float64Array(m * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) out[i * n + j] = q[j * m + i];
  return out;
}

/**
 * Reduced QR of an m × n (m ≥ n) matrix by Householder reflections, in float64, both matrices
 * column-major. Returns the m × n Q with each column multiplied by the sign of the matching
 * diagonal entry of R (0 when that entry is 0, as torch.sign), i.e. the unique Q whose R has a
 * positive diagonal. `a` is overwritten.
 */
function householderQ(a: Float64Array, m: number, n: number): Float64Array {
  const vs = new Float64Array(m * n); // column k holds v_k in rows k..m-1
  const beta = new Float64Array(n); // H_k = I - beta_k v_k v_k^T
  const rdiag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const col = k * m;
    let scale = 0;
    for (let i = k; i < m; i++) scale = Math.max(scale, Math.abs(a[col + i]));
    if (scale === 0) continue; // R_kk = 0, H_k = I
    let norm2 = 0;
    for (let i = k; i < m; i++) {
      const x = a[col + i] / scale;
      norm2 += x * x;
    }
    const norm = scale * Math.sqrt(norm2);
    const x0 = a[col + k];
    const alpha = x0 >= 0 ? -norm : norm;
    let vnorm2 = 0;
    for (let i = k; i < m; i++) {
      const v = i === k ? x0 - alpha : a[col + i];
      vs[col + i] = v;
      vnorm2 += v * v;
    }
    rdiag[k] = alpha;
    const b = 2 / vnorm2;
    beta[k] = b;
    for (let j = k + 1; j < n; j++) {
      const cj = j * m;
      let s = 0;
      for (let i = k; i < m; i++) s += vs[col + i] * a[cj + i];
      s *= b;
      for (let i = k; i < m; i++) a[cj + i] -= s * vs[col + i];
    }
  }
  // Q = H_0 H_1 ... H_{n-1} [I_n; 0], applied right to left.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const b = beta[k];
    if (b === 0) continue;
    const col = k * m;
    // Columns j < k are still e_j here, which H_k (rows >= k) leaves alone.
    for (let j = k; j < n; j++) {
      const cj = j * m;
      let s = 0;
      for (let i = k; i < m; i++) s += vs[col + i] * q[cj + i];
      if (s === 0) continue;
      s *= b;
      for (let i = k; i < m; i++) q[cj + i] -= s * vs[col + i];
    }
  }
  for (let j = 0; j < n; j++) {
    const sign = Math.sign(rdiag[j]);
    const cj = j * m;
    for (let i = 0; i < m; i++) q[cj + i] *= sign;
  }
  return q;
}

