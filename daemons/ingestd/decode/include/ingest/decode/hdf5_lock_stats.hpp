#pragma once
// libhdf5 is not thread-safe here (Debian's build, and its HL library): every call into it runs
// under one process-wide lock. These counters say how much of the decode time that lock costs:
// held_ns / decode time is the serial fraction that caps hdf5 decoding across decode threads.
#include <cstdint>

namespace peaknet::ingest {

struct Hdf5LockStats {
  uint64_t acquisitions = 0;  ///< one per HDF5 message (catalog walk) or inspect read
  uint64_t held_ns = 0;       ///< total time inside the lock
  uint64_t wait_ns = 0;       ///< total time spent waiting for it (contention)
};

/// Process-wide totals since start (monotonic; subtract two samples for an interval).
Hdf5LockStats hdf5_lock_stats() noexcept;

}  // namespace peaknet::ingest
