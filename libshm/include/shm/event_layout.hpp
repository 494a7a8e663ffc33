#pragma once
// What travels in the rings' slots. Q1 slot = EventHeader at offset 0, pixels at kPayloadOffset
// (page aligned, so consecutive slots' payloads are one pitched copy: pitch = slot_bytes).
// Q2 slot = ResultHeader at offset 0, PeakRecord[n_peaks] at kPeaksOffset, then optional extras.
// Shared-memory rules: trivially copyable, standard layout, fixed-width fields, no pointers.
// Changing width, order or meaning of any field needs kEventLayoutVersion bumped (a test pins offsets).
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace peaknet::shm {

inline constexpr uint32_t kEventLayoutVersion = 4;  ///< 2: timestamp_raw; 3: ingest_epoch; 4: ResultHeader
                                                    ///< mask fields (all taken from reserved bytes)

enum class DType : uint8_t { kU8 = 1, kU16, kU32, kU64, kI8, kI16, kI32, kI64, kF32, kF64 };
constexpr size_t dtype_size(DType t) {
  switch (t) {
    case DType::kU8:
    case DType::kI8:
      return 1;
    case DType::kU16:
    case DType::kI16:
      return 2;
    case DType::kU32:
    case DType::kI32:
    case DType::kF32:
      return 4;
    case DType::kU64:
    case DType::kI64:
    case DType::kF64:
      return 8;
  }
  return 0;
}

/// Q1: one detector readout (C panels x H x W, C-order) plus its metadata.
struct EventHeader {
  uint64_t event_id;           ///< (source_id << 40) | sequence, unique within one ingest_epoch
  uint64_t source_message_id;  ///< which received message it came from (per endpoint counter)
  uint64_t t_recv_ns;          ///< CLOCK_REALTIME when the message arrived
  uint64_t t_q1_ns;            ///< CLOCK_REALTIME when published into Q1
  double timestamp;            ///< per-event timestamp from the stream (NaN when absent)
  double photon_wavelength_a;  ///< Angstrom (NaN when absent)
  uint64_t payload_bytes;      ///< = C*H*W*dtype_size
  uint32_t source_id;          ///< endpoint / source index in ingestd
  uint32_t channels;           ///< C (panels)
  uint32_t height;             ///< H of the stored frame
  uint32_t width;              ///< W of the stored frame
  uint32_t orig_height;        ///< unpadded detector frame H
  uint32_t orig_width;         ///< unpadded detector frame W
  uint32_t pad_top;            ///< rows before the detector frame inside the stored frame
  uint32_t pad_left;           ///< columns before the detector frame inside the stored frame
  DType dtype;
  uint8_t reserved0[3];
  uint32_t flags;          ///< kEventFlag*
  uint64_t timestamp_raw;  ///< exact integer timestamp from the wire, psana (sec<<32)|nsec; 0 when
                           ///< absent (timestamp above is a double and loses the low nsec bits)
  uint64_t ingest_epoch;   ///< random, nonzero, drawn by the ingestd process that stamped event_id:
                           ///< (ingest_epoch, event_id) names the event across restarts, reboots
                           ///< and nodes (docs/libshm.md "Event identity"); 0 = unknown
  uint8_t reserved[144];
};
inline constexpr uint32_t kEventFlagEndOfStream = 1u << 0;  ///< marker event, no payload

/// Where a result's PeakNet mask is (ResultHeader::mask_place).
enum class MaskPlace : uint8_t {
  kNone = 0,    ///< no mask (write_masks off, a non-hit, or it did not fit)
  kHost = 1,    ///< in this Q2 slot at mask_offset (CPU inferd)
  kDevice = 2,  ///< in inferd's device pool entry of this Q2 slot: ipc_* fields + kResultFlagDeviceMask
};

/// Q2: the result for one event.
struct ResultHeader {
  uint64_t event_id;
  uint64_t source_message_id;
  uint64_t t_recv_ns;
  uint64_t t_q1_ns;
  uint64_t t_q2_ns;  ///< CLOCK_REALTIME when inferd published the result
  double timestamp;
  double photon_wavelength_a;
  uint32_t channels, height, width;  ///< as in EventHeader (stored frame)
  uint32_t orig_height, orig_width;
  uint32_t pad_top, pad_left;  ///< total offsets (ingestd + inferd padding) to remove
  uint32_t n_peaks;            ///< PeakRecords that follow (<= max_num_peak)
  uint32_t n_found;            ///< components found before the cap
  uint32_t producer_id;        ///< which inferd (GPU index) made it
  uint32_t flags;              ///< kResultFlag*
  uint32_t reserved1;
  uint64_t frame_bytes;   ///< optional raw frame copy (writerd data_1/data), 0 when absent
  uint64_t frame_offset;  ///< from slot start
  DType frame_dtype;
  uint8_t reserved0[7];
  uint8_t ipc_mem_handle[64];    ///< cudaIpcMemHandle_t of the device pool (kResultFlagDeviceMask)
  uint8_t ipc_event_handle[64];  ///< cudaIpcEventHandle_t to wait on before reading
  uint64_t ipc_offset;           ///< byte offset of this event's mask/logits in the pool
  uint64_t ipc_bytes;
  uint64_t timestamp_raw;  ///< as in EventHeader (0 when absent)
  uint64_t ingest_epoch;   ///< as in EventHeader: (ingest_epoch, event_id) is the event's identity
  // PeakNet mask of a hit (writerd.write_masks; docs/writerd.md "Masks"): uint8 per pixel, 1 = the
  // model's peak class (logit1 > logit0), 0 = background, C-order mask_channels x mask_height x mask_width
  // (the stored frame's shape, like the peaks' coordinates).
  MaskPlace mask_place;  ///< where the mask is: none, host copy in this slot, device pool entry
  uint8_t reserved2[3];
  uint32_t mask_channels, mask_height, mask_width;
  uint64_t mask_bytes;         ///< = mask_channels * mask_height * mask_width
  uint64_t mask_offset;        ///< kHost: from slot start (64-byte aligned, after peaks and frame)
  uint64_t producer_identity;  ///< kDevice: inferd's process identity (shm/process_liveness.hpp): the pool
                               ///< entry is readable only while that process lives
  char mask_device_pci[16];    ///< kDevice: PCI bus id of the pool's GPU ("0000:3b:00.0", NUL-terminated)
  uint8_t reserved[168];
};
inline constexpr uint32_t kResultFlagHit = 1u << 0;
inline constexpr uint32_t kResultFlagDeviceMask = 1u << 1;  ///< = mask_place kDevice (device_masks consumers)
inline constexpr uint32_t kResultFlagEndOfStream = 1u << 2;

/// One Bragg peak, stored frame coordinates (pad offsets not yet removed).
struct PeakRecord {
  double y;              ///< unweighted centroid, row
  double x;              ///< unweighted centroid, column
  double intensity_sum;  ///< sum of the input frame over the component
  float intensity_max;
  uint32_t panel;
  uint32_t npix;
  uint32_t reserved;
};

inline constexpr size_t kPayloadOffset = 4096;  // Q1 pixels
inline constexpr size_t kPeaksOffset = 512;     // Q2 peaks
static_assert(sizeof(EventHeader) == 256);
static_assert(sizeof(ResultHeader) == 512);
static_assert(sizeof(PeakRecord) == 40);
static_assert(std::is_trivially_copyable_v<EventHeader> && std::is_standard_layout_v<EventHeader>);
static_assert(std::is_trivially_copyable_v<ResultHeader> && std::is_standard_layout_v<ResultHeader>);
static_assert(std::is_trivially_copyable_v<PeakRecord> && std::is_standard_layout_v<PeakRecord>);

}  // namespace peaknet::shm
