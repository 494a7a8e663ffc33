#pragma once
// A process named robustly against pid reuse (pid + start time), for resources that live only as long
// as their owner and are named in a ring's slot: inferd's device masks (ResultHeader::producer_identity)
// are readable through CUDA IPC only while that inferd lives.
#include <cstdint>

namespace peaknet::shm {

/// This process: pid << 32 | low 32 bits of its start time (/proc/self/stat); never 0.
uint64_t self_process_identity();
/// True while the process named by `identity` lives (same pid and start time, not a zombie); false for 0.
bool process_identity_alive(uint64_t identity);

}  // namespace peaknet::shm
