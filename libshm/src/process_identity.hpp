#pragma once
// Who is a process, robust against pid reuse: pid + start time (clock ticks since boot, /proc/<pid>/stat
// field 22). A zombie counts as dead: it holds no memory mapping any more.
#include <sys/types.h>
#include <cstdint>

namespace peaknet::shm::detail {

/// Start time of pid from /proc/<pid>/stat; 0 when the process does not exist, is a zombie or unreadable.
uint64_t process_start_time(pid_t pid);

/// identity word of the process table: pid << 32 | low 32 bits of the start time.
uint64_t make_identity(pid_t pid, uint64_t start_time);
pid_t identity_pid(uint64_t identity);

/// This process's identity (recomputed after fork).
uint64_t self_identity();
uint64_t self_start_time();

/// true when a process with this identity is alive (same pid, same start time, not a zombie).
bool identity_alive(uint64_t identity);

uint64_t monotonic_ns();
uint64_t monotonic_coarse_ns();
uint64_t realtime_ns();

}  // namespace peaknet::shm::detail
