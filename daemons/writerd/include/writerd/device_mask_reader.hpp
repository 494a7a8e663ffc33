#pragma once
// DeviceMaskReader: how writerd gets a mask that inferd left on its GPU (ResultHeader::mask_place
// kDevice; docs/writerd.md "Masks"). The CUDA implementation (src/cuda/, built only with
// PEAKNET_CUDA) opens each exporting inferd's pool and event handles once (cached per handle), waits
// for the IPC event, copies the entry device -> host; the caller's Q2 claim on the record is the
// entry's lease, released with the slot. A record whose inferd is gone (producer_identity dead), whose
// handle cannot be opened, or any record in a build without CUDA yields "why not": the caller writes
// the hit without mask and counts it (masks_missing). Thread-safe (rows are made on the WorkPool).
#include <cstdint>
#include <memory>
#include <string>

#include "shm/event_layout.hpp"

namespace peaknet::writerd {

class DeviceMaskReader {
 public:
  virtual ~DeviceMaskReader() = default;
  /// Copies the mask of `header` (header.mask_bytes) into `out`; "" or why it cannot.
  virtual std::string read(const shm::ResultHeader& header, uint8_t* out) = 0;
  /// True when this build can read device masks at all (built with CUDA).
  virtual bool available() const = 0;
};

/// The CUDA IPC reader in a build with CUDA, else one that refuses every record (with a log line once).
std::unique_ptr<DeviceMaskReader> make_device_mask_reader();

}  // namespace peaknet::writerd
