/**
 * The float64 QR behind `init.orthogonal_` (internal: not exported from the package).
 */

/**
 * The Q factor of PyTorch's orthogonal_ for a given rows × cols matrix of normals (row-major,
 * as drawn): transposed when rows < cols, QR-factored, columns multiplied by sign(diag(R)),
 * transposed back. Returns rows × cols values (row-major), unscaled. Exported for the tests.
 */
export function orthogonalFromNormal(normal: Float64Array, rows: number, cols: number): Float64Array {
  const wide = rows < cols;
  const m = wide ? cols : rows;
  const n = wide ? rows : cols;
  // A is m x n, row-major.
  const a = new Float64Array(m * n);
  if (wide) {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) a[j * n + i] = normal[i * cols + j];
  } else {
    a.set(normal.subarray(0, m * n));
  }
  const q = householderQ(a, m, n);
  if (!wide) return q;
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * cols + i] = q[i * n + j];
  return out;
}

/**
 * Reduced QR of an m × n (m ≥ n) matrix by Householder reflections, in float64. Returns the
 * m × n Q with each column multiplied by the sign of the matching diagonal entry of R (0 when
 * that entry is 0, as torch.sign), i.e. the unique Q whose R has a positive diagonal.
 * `a` is overwritten.
 */
function householderQ(a: Float64Array, m: number, n: number): Float64Array {
  const vs = new Float64Array(m * n); // column k holds v_k (rows k..m-1)
  const beta = new Float64Array(n); // H_k = I - beta_k v_k v_k^T
  const rdiag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let scale = 0;
    for (let i = k; i < m; i++) scale = Math.max(scale, Math.abs(a[i * n + k]));
    if (scale === 0) {
      rdiag[k] = 0;
      continue;
    }
    let norm2 = 0;
    for (let i = k; i < m; i++) {
      const x = a[i * n + k] / scale;
      norm2 += x * x;
    }
    const norm = scale * Math.sqrt(norm2);
    const x0 = a[k * n + k];
    const alpha = x0 >= 0 ? -norm : norm;
    let vnorm2 = 0;
    for (let i = k; i < m; i++) {
      const v = i === k ? x0 - alpha : a[i * n + k];
      vs[i * n + k] = v;
      vnorm2 += v * v;
    }
    rdiag[k] = alpha;
    const b = 2 / vnorm2;
    beta[k] = b;
    a[k * n + k] = alpha;
    for (let i = k + 1; i < m; i++) a[i * n + k] = 0;
    for (let j = k + 1; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += vs[i * n + k] * a[i * n + j];
      s *= b;
      for (let i = k; i < m; i++) a[i * n + j] -= s * vs[i * n + k];
    }
  }
  // Q = H_0 H_1 ... H_{n-1} [I_n; 0], applied right to left.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const b = beta[k];
    if (b === 0) continue;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += vs[i * n + k] * q[i * n + j];
      s *= b;
      if (s === 0) continue;
      for (let i = k; i < m; i++) q[i * n + j] -= s * vs[i * n + k];
    }
  }
  for (let j = 0; j < n; j++) {
    const sign = Math.sign(rdiag[j]);
    for (let i = 0; i < m; i++) q[i * n + j] *= sign;
  }
  return q;
}
