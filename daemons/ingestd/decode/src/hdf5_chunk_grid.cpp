#include "hdf5_chunk_grid.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "decode_error.hpp"
#include "hdf5_filters.hpp"

namespace peaknet::ingest {
namespace {

/// Copies the part of one decoded chunk (origin `origin`, C-order values at `src`) that lies in rows
/// [first, first + rows) into dst, whose shape is (rows,) + shape[1:].
/// `run_dim`: from run_dim + 1 on every chunk spans the whole extent, so each run is contiguous
/// in both the chunk and dst: the chunk's extent along run_dim times the inner extents.
void scatter(const Hdf5Dataset& ds, const std::vector<uint64_t>& origin, uint64_t first, uint64_t rows, size_t run_dim,
             const std::byte* src, std::byte* dst) {
  const auto& shape = ds.shape;
  const auto& chunk = ds.chunk_shape;
  const size_t rank = shape.size();
  const uint64_t elem = ds.dtype->size();
  std::vector<uint64_t> src_stride(rank, 1), dst_stride(rank, 1), extent(rank), src_start(rank, 0), dst_start(rank);
  for (size_t d = rank - 1; d > 0; --d) {
    src_stride[d - 1] = src_stride[d] * chunk[d];
    dst_stride[d - 1] = dst_stride[d] * shape[d];
  }
  const uint64_t lo = std::max(origin[0], first), hi = std::min(origin[0] + chunk[0], first + rows);
  extent[0] = hi - lo;
  src_start[0] = lo - origin[0];
  dst_start[0] = lo - first;
  for (size_t d = 1; d < rank; ++d) {
    extent[d] = std::min(chunk[d], shape[d] - origin[d]);
    dst_start[d] = origin[d];
  }
  const uint64_t run_bytes = extent[run_dim] * src_stride[run_dim] * elem;
  std::vector<uint64_t> at(run_dim, 0);  // odometer over the dimensions outside the run
  while (true) {
    uint64_t s = src_start[run_dim] * src_stride[run_dim], t = dst_start[run_dim] * dst_stride[run_dim];
    for (size_t d = 0; d < run_dim; ++d) {
      s += (src_start[d] + at[d]) * src_stride[d];
      t += (dst_start[d] + at[d]) * dst_stride[d];
    }
    std::memcpy(dst + t * elem, src + s * elem, run_bytes);
    size_t d = run_dim;
    while (d > 0 && ++at[d - 1] == extent[d - 1]) at[--d] = 0;
    if (d == 0) return;
  }
}

}  // namespace

void read_chunked_rows(const Hdf5Dataset& ds, uint64_t first, uint64_t rows, std::byte* dst, DecodeScratch& scratch) {
  if (rows == 0 || ds.chunks.empty()) return;
  const auto& shape = ds.shape;
  const auto& chunk = ds.chunk_shape;
  const size_t rank = shape.size();
  size_t run_dim = rank - 1;  // runs merge over the inner dimensions that chunks span whole
  while (run_dim > 0 && chunk[run_dim] == shape[run_dim]) --run_dim;
  const bool whole_rows = run_dim == 0;
  const uint64_t row_bytes = ds.row_bytes(), chunk_bytes = ds.chunk_bytes();
  const std::vector<uint64_t> grid = ds.chunk_grid();
  uint64_t per_row_of_grid = 1;
  for (size_t d = 1; d < rank; ++d) per_row_of_grid *= grid[d];
  std::vector<uint64_t> origin(rank);
  for (uint64_t g0 = first / chunk[0]; g0 * chunk[0] < first + rows; ++g0) {
    for (uint64_t j = 0; j < per_row_of_grid; ++j) {
      const Hdf5Chunk& c = ds.chunks[g0 * per_row_of_grid + j];
      if (!c.stored) {
        fail(RejectReason::kMalformed,
             ds.path + ": chunk at element " + std::to_string(c.leading_index) + " of dimension 0 is not stored");
      }
      origin[0] = g0 * chunk[0];
      for (uint64_t rest = j, d = rank - 1; d > 0; --d) {
        origin[d] = rest % grid[d] * chunk[d];
        rest /= grid[d];
      }
      if (whole_rows && origin[0] >= first && origin[0] + chunk[0] <= first + rows) {
        decode_hdf5_chunk(ds, c, chunk_bytes, dst + (origin[0] - first) * row_bytes, scratch);
        continue;
      }
      const std::byte* values = nullptr;
      if (const auto raw = raw_chunk_values(ds, c); raw && raw->size() == chunk_bytes) {
        values = raw->data();  // unfiltered: copied out of the message, no staging
      } else {
        std::byte* staged = ensure(scratch.chunk, chunk_bytes);
        decode_hdf5_chunk(ds, c, chunk_bytes, staged, scratch);  // names a raw size mismatch too
        values = staged;
      }
      scatter(ds, origin, first, rows, run_dim, values, dst);
    }
  }
}

}  // namespace peaknet::ingest
