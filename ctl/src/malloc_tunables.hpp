#pragma once
// glibc malloc tunables peakctl gives a daemon it starts. ingestd receives messages of hundreds of MB:
// libzmq mallocs each one, glibc serves blocks above 32 MiB with a fresh mmap, and every 4 KiB page then
// faults and is zeroed — on the H200 host that capped 3 endpoints at ~1.75 GB/s. With
// glibc.malloc.hugetlb=1 those mappings get transparent huge pages (THP in "madvise" mode): 3.1 GB/s
// (docs/BENCHMARKS.md, ingestd).
#include <string>
#include <string_view>

namespace peaknet::ctl {

/// The GLIBC_TUNABLES value for ingestd: `current` (the operator's, may be empty) with
/// glibc.malloc.hugetlb=1 added unless it already sets glibc.malloc.hugetlb.
std::string with_hugetlb_malloc(std::string_view current);

}  // namespace peaknet::ctl
