#pragma once
// Concurrent union-find on a label array, shared by the CUDA merge kernel and a host test that runs
// the same code from many std::threads (the Memory policy supplies load / CAS / atomicMin).
//
// Invariant that makes it correct under any interleaving:
//  (1) a link is made ONLY by CAS(parent[b], b, a) with a < b: it succeeds only while b is a root,
//      so a non-root's parent is never changed by a link and a root is never linked "blindly";
//  (2) compression only lowers parent[u] (atomicMin) to a node found above u on u's ancestor chain.
//  Under (1)+(2) a node's parent only ever moves to one of its own ancestors, so ancestry is permanent:
//  sets never split, and the ancestors of u form one chain of strictly decreasing indices. Hence the
//  smaller of two ancestors is still an ancestor, and atomicMin-compression cannot move u out of its set
//  nor touch a root (nodes above `root` on the chain are > root only while they are its descendants).
//  unite() retries until its CAS sticks or both sides have the same root: a failed CAS means another
//  thread linked b (lock-free progress), and a lost union is impossible because no write other than
//  a successful CAS ever changes which tree a node is in.
// The previous version linked with atomicMin: a link on a root that had just been linked elsewhere
// re-parented a non-root (detaching it), and compression then re-parented a root without checking the
// old value - a union that a concurrent link could silently undo (one extra component on dense masks).
#include <cstdint>

#if defined(__CUDACC__)
#define PEAKNET_UF_INLINE __host__ __device__ __forceinline__
#else
#define PEAKNET_UF_INLINE inline
#endif

namespace peaknet::peaks::union_find {

inline constexpr uint32_t kBackground = 0xFFFFFFFFu;  ///< label of a background pixel (never changes)

/// Walks parent links up to the root (parent[root] == root); no writes.
template <typename Memory>
PEAKNET_UF_INLINE uint32_t find_root(Memory& m, uint32_t i) {
  uint32_t parent = m.load(i);
  while (parent != i) {
    i = parent;
    parent = m.load(i);
  }
  return i;
}

/// find_root, then points the walked path at the root found (see (2) above). Without it a large
/// component (saturated region, dense mask) builds row-long chains and the merge goes quadratic.
template <typename Memory>
PEAKNET_UF_INLINE uint32_t find_and_compress(Memory& m, uint32_t i) {
  const uint32_t root = find_root(m, i);
  for (uint32_t node = i;;) {
    const uint32_t next = m.load(node);
    if (next <= root) break;  // points at root, or above it (root was linked meanwhile)
    m.atomic_min(node, root);
    node = next;
  }
  return root;
}

/// Puts a and b in one set: links the larger root under the smaller with a CAS that only succeeds
/// while that root is still a root; otherwise retries from the current roots.
template <typename Memory>
PEAKNET_UF_INLINE void unite(Memory& m, uint32_t a, uint32_t b) {
  a = find_and_compress(m, a);
  b = find_and_compress(m, b);
  while (a != b) {
    if (a > b) {
      const uint32_t t = a;
      a = b;
      b = t;
    }
    const uint32_t seen = m.cas(b, b, a);
    if (seen == b) return;           // b was a root and now hangs under a
    b = find_and_compress(m, seen);  // b got linked meanwhile: continue from its current root
    a = find_and_compress(m, a);
  }
}

/// The unions of foreground pixel i (y = i / w) with its already-scanned neighbours up-left, up,
/// up-right, left. If "up" is foreground it is adjacent to the other three, whose own unions cover
/// them; up-left covers left (left's "up" is up-left).
template <typename Memory>
PEAKNET_UF_INLINE void merge_pixel(Memory& m, uint32_t i, uint32_t w) {
  const uint32_t y = i / w, x = i - y * w;
  const auto foreground = [&m](uint32_t j) { return m.load(j) != kBackground; };  // never turns back
  if (y == 0) {
    if (x > 0 && foreground(i - 1)) unite(m, i, i - 1);
    return;
  }
  const uint32_t up = i - w;
  if (foreground(up)) {
    unite(m, i, up);
    return;
  }
  bool left_covered = false;
  if (x > 0 && foreground(up - 1)) {
    unite(m, i, up - 1);
    left_covered = true;
  }
  if (x + 1 < w && foreground(up + 1)) unite(m, i, up + 1);
  if (!left_covered && x > 0 && foreground(i - 1)) unite(m, i, i - 1);
}

}  // namespace peaknet::peaks::union_find
