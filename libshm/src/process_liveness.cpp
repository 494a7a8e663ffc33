#include "shm/process_liveness.hpp"

#include "process_identity.hpp"

namespace peaknet::shm {

uint64_t self_process_identity() { return detail::self_identity(); }

bool process_identity_alive(uint64_t identity) { return identity != 0 && detail::identity_alive(identity); }

}  // namespace peaknet::shm
